// Fault suite for exactly-once delivery: the built CLI (daemon, sweep, scan) against the GitLab stand-in
// with kills, flaky answers, slow writes, lost state and hostile log text. Each scenario counts what GitLab
// holds in the end (test/support/delivery-audit.ts): no sighting lost, none recorded twice, one open issue
// per fingerprint. FAULT_ROUNDS scales the randomised scenarios (default small for CI; `npm run faults`
// runs many more), FAULT_SEED changes every random choice.
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { issueToken } from '../src/fingerprint/token.js';
import { fingerprintInMarker, occurrenceIdsInMarkers } from '../src/sink/gitlab/marker.js';
import { racewatchAsync } from './support/cli.js';
import { LIFETIMES, startDaemon, waitFor, type DaemonProcess } from './support/daemon.js';
import { audit, auditProblems, expectedOccurrences, short, waitUntilRecorded, type ExpectedOccurrence } from './support/delivery-audit.js';
import { startGitlabStandin, type FlakyKind, type GitlabStandin } from './support/gitlab-standin.js';
import { SAMPLES_DIR } from './support/samples.js';
import { seededRandom } from './support/seeded-random.js';

const ROUNDS = Math.max(1, Number(process.env.FAULT_ROUNDS ?? 20));
const SEED = Number(process.env.FAULT_SEED ?? 20261202);
const PROJECT_ID = 42;
const EXIT_OK = 0;
const EXIT_DELIVERY_INCOMPLETE = 3;
/** README: on SIGTERM the daemon tries one last delivery, at most 10 s. */
const STOP_TIMEOUT_MS = 10_000;
const STOP_SLACK_MS = 5_000;

let standin: GitlabStandin;
let dir: string;
let daemons: DaemonProcess[];

beforeEach(async () => {
  standin = await startGitlabStandin();
  dir = mkdtempSync(path.join(tmpdir(), 'racewatch-faults-'));
  daemons = [];
});

afterEach(async () => {
  for (const daemon of daemons) {
    if (daemon.child.exitCode === null && daemon.child.signalCode === null) daemon.child.kill('SIGKILL');
    await daemon.exited;
  }
  await standin.close();
  rmSync(dir, { recursive: true, force: true });
});

const sample = (name: string) => readFileSync(path.join(SAMPLES_DIR, 'logs', name), 'utf8');

function gitlabEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    GITLAB_URL: standin.url,
    GITLAB_TOKEN: standin.token,
    GITLAB_PROJECT: 'soak/svc',
    RACEWATCH_COMMENT_WINDOW: '0',
    RACEWATCH_GITLAB_TIMEOUT: '1s',
    RACEWATCH_GITLAB_BACKOFF: '50ms',
    RACEWATCH_GITLAB_RETRIES: '3',
    RACEWATCH_GITLAB_MAX_RETRY_AFTER: '5s',
    // The stand-in carries out a write at once or never (slowWrite aside): no need to look for long.
    RACEWATCH_GITLAB_SETTLE: '2s',
    RACEWATCH_HOST: 'soak-1',
    ...extra,
  };
}

function track(daemon: DaemonProcess): DaemonProcess {
  daemons.push(daemon);
  return daemon;
}

interface Box {
  name: string;
  log: string;
  env: Record<string, string>;
}

/** A box of its own: a log whose first line names the box (so its occurrence ids are its own) and a state directory. */
function makeBox(name: string, extra: Record<string, string> = {}): Box {
  const logs = path.join(dir, name, 'logs');
  mkdirSync(logs, { recursive: true });
  const log = path.join(logs, 'soak.log');
  writeFileSync(log, `${name}: soak run ${SEED} starting\n`);
  return { name, log, env: gitlabEnv({ RACEWATCH_STATE_DIR: path.join(dir, name, 'state'), RACEWATCH_PATHS: log, RACEWATCH_HOST: name, ...extra }) };
}

interface Runs {
  statuses: number[];
  ok: boolean;
  lastStderr: string;
}

/** Runs `racewatch <args>` until it exits 0, at most `attempts` times; any status but 0 and 3 ends it. */
async function runUntilOk(args: string[], env: Record<string, string>, attempts: number): Promise<Runs> {
  const statuses: number[] = [];
  let lastStderr = '';
  for (let i = 0; i < attempts; i++) {
    const result = await racewatchAsync(args, env);
    statuses.push(result.status);
    lastStderr = result.stderr;
    if (result.status !== EXIT_DELIVERY_INCOMPLETE) break;
  }
  return { statuses, ok: statuses.at(-1) === EXIT_OK, lastStderr: lastStderr.slice(-2000) };
}

function exitProblems(what: string, runs: Runs): string[] {
  const bad = runs.statuses.filter((s) => s !== EXIT_OK && s !== EXIT_DELIVERY_INCOMPLETE);
  if (bad.length > 0) return [`${what} exited ${runs.statuses.join(', ')} (only 0 and 3 are delivery outcomes): ${runs.lastStderr}`];
  if (!runs.ok) return [`${what} still exited 3 after ${runs.statuses.length} runs`];
  return [];
}

function report(scenario: string, totals: Record<string, unknown>): void {
  console.log(
    `[faults] ${scenario}: ${Object.entries(totals)
      .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
      .join(' ')}`,
  );
}

/** SIGTERM, then what GitLab holds: every problem with the sightings or the stop, one line each. */
async function stopAndAudit(daemon: DaemonProcess, expected: ExpectedOccurrence[], complete: boolean) {
  daemon.child.kill('SIGTERM');
  const status = await daemon.exited;
  await standin.whenIdle();
  const result = audit(
    standin,
    expected.map((o) => o.id),
  );
  const problems = auditProblems(result, expected);
  if (!complete) problems.push('the sightings did not all reach GitLab in time');
  if (status !== EXIT_OK) {
    const how = status === null ? `was ended by ${daemon.child.signalCode}` : `exited ${status}`;
    problems.push(`the daemon ${how} after SIGTERM, want exit 0; its last output:\n${daemon.output().slice(-1500)}`);
  }
  return { result, problems };
}

function hitsOf(hits: Record<FlakyKind, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(hits).filter(([, n]) => n > 0));
}

/** Which issues hold an occurrence id (descriptions and notes), by iid. */
function issuesHolding(id: string): number[] {
  return standin
    .issues(PROJECT_ID)
    .filter((issue) =>
      [issue.description, ...standin.notes(PROJECT_ID, issue.iid).map((n) => n.body)].some((text) => occurrenceIdsInMarkers(text).includes(id)),
    )
    .map((issue) => issue.iid);
}

const FLAKY_NETWORK: FlakyKind[] = ['error500', 'dropAfterServing', 'rateLimited', 'dropConnection'];

// ---------------------------------------------------------------------------------------------------------

describe('a. kill -9 at random moments of the daemon, with a live writer and a flaky, sometimes slow GitLab', () => {
  for (const watch of ['events', 'poll'] as const) {
    it(
      `RACEWATCH_WATCH=${watch}: ${ROUNDS} kills, then a healthy restart files every sighting once`,
      async () => {
        const random = seededRandom(SEED + (watch === 'poll' ? 1 : 0));
        // Slow writes land within the settle time (2 s): a later one could not be told from one never made (README).
        standin.setFlaky({ seed: SEED, rate: 0.2, kinds: [...FLAKY_NETWORK, 'slowWrite'], slowWriteMs: [1200, 1800] });
        const box = makeBox('soak-1', {
          RACEWATCH_WATCH: watch,
          RACEWATCH_RECONCILE_INTERVAL: '200ms',
          RACEWATCH_REPORT_TIMEOUT: '1s',
          RACEWATCH_DRAIN_TIME: '1s',
        });
        let kills = 0;
        for (let round = 0; round < ROUNDS; round++) {
          const daemon = track(startDaemon(box.env));
          await sleep(50 + random() * 400);
          // The same lifetime again lands at a new offset: new occurrences of the same bugs.
          appendFileSync(box.log, LIFETIMES[round % LIFETIMES.length]!);
          await sleep(random() * 400);
          daemon.child.kill('SIGKILL');
          await daemon.exited;
          kills += 1;
        }
        const faultsServed = hitsOf(standin.flakyHits());
        standin.setFlaky(null);
        const expected = await expectedOccurrences([box.log]);

        const final = track(startDaemon(box.env));
        const complete = await waitUntilRecorded(
          standin,
          expected.map((o) => o.id),
          60_000 + ROUNDS * 500,
        );
        await waitFor(() => final.output().includes('racewatch daemon following'), 'the daemon following', 30_000).catch(() => {});
        const { result, problems } = await stopAndAudit(final, expected, complete);
        report(`a/${watch}`, {
          kills,
          sightings: expected.length,
          lost: result.lost.length,
          twice: result.twice.length,
          unexpected: result.unexpected.length,
          issues: standin.issues(PROJECT_ID).length,
          faultsServed,
        });
        expect(problems, `after ${kills} kills (${watch}):\n${problems.join('\n')}`).toEqual([]);
      },
      180_000 + ROUNDS * 3_000,
    );
  }
});

// Sample logs with distinct bugs: each wave of scenario b brings new ones to GitLab and repeats an older one.
const RACE_POOL = [
  'struct-field.log',
  'map-race.log',
  'buffer-race.log',
  'generic-cache.log',
  'closures.log',
  'method-value.log',
  'atomic-plain.log',
  'main-goroutine.log',
  'afterfunc.log',
  'two-callers.log',
  'metrics-test-v.log',
  'soakd-build-a1.log',
];

describe('b. four boxes filing the same new races into one project, GitLab flaky', () => {
  it(
    `concurrent sweeps, repeated until each exits 0: one open issue per fingerprint, every box's sightings once`,
    async () => {
      standin.setFlaky({ seed: SEED, rate: 0.2, kinds: ['error500', 'error502', 'dropConnection', 'dropAfterServing', 'rateLimited'] });
      const boxes = [1, 2, 3, 4].map((n) => makeBox(`box${n}`, { RACEWATCH_GITLAB_TIMEOUT: '2s' }));
      const waves = Math.max(2, Math.ceil(ROUNDS / 5));
      const problems: string[] = [];
      let sweeps = 0;
      for (let wave = 0; wave < waves; wave++) {
        const logs = [RACE_POOL[(2 * wave) % RACE_POOL.length]!, RACE_POOL[(2 * wave + 1) % RACE_POOL.length]!];
        if (wave > 0) logs.push(RACE_POOL[(wave - 1) % RACE_POOL.length]!);
        for (const box of boxes) appendFileSync(box.log, `${box.name}: wave ${wave}\n${logs.map(sample).join('')}`);
        const runs = await Promise.all(boxes.map((box) => runUntilOk(['sweep'], box.env, 10)));
        runs.forEach((run, i) => {
          sweeps += run.statuses.length;
          problems.push(...exitProblems(`wave ${wave}: ${boxes[i]!.name}'s sweep`, run));
        });
      }
      await standin.whenIdle();
      const expected = await expectedOccurrences(boxes.map((b) => b.log));
      const result = audit(
        standin,
        expected.map((o) => o.id),
      );
      problems.push(...auditProblems(result, expected));
      report('b/four-boxes', {
        waves,
        sweeps,
        sightings: expected.length,
        fingerprints: new Set(expected.map((o) => o.fingerprint)).size,
        lost: result.lost.length,
        twice: result.twice.length,
        issues: standin.issues(PROJECT_ID).length,
        faultsServed: hitsOf(standin.flakyHits()),
      });
      expect(problems, problems.join('\n')).toEqual([]);
    },
    240_000 + ROUNDS * 5_000,
  );
});

describe('c. a duplicate closed by racewatch, the canonical issue closed by a person, the race seen again', () => {
  it('RACEWATCH_REOPEN_POLICY=reopen: exactly one open issue afterwards, the lowest iid carrying the fingerprint', async () => {
    const boxes = ['box1', 'box2'].map((name) => makeBox(name, { RACEWATCH_GITLAB_TIMEOUT: '10s', RACEWATCH_REOPEN_POLICY: 'reopen' }));
    for (const box of boxes) appendFileSync(box.log, sample('struct-field.log'));
    // Both boxes look the race up, find nothing and create: GitLab answers both creates late.
    standin.injectFault({ method: 'POST', path: /\/issues$/, status: 201, delayMs: 1500, times: 2 });
    const first = await Promise.all(boxes.map((box) => runUntilOk(['sweep'], box.env, 5)));
    const problems = first.flatMap((run, i) => exitProblems(`${boxes[i]!.name}'s first sweep`, run));
    const [{ fingerprint }] = (await expectedOccurrences([boxes[0]!.log])) as [ExpectedOccurrence];
    const carrying = () => standin.issues(PROJECT_ID).filter((issue) => fingerprintInMarker(issue.description) === fingerprint);
    const raced = carrying();
    // README: "the younger issue is closed as a duplicate of the older one". This scenario starts from there.
    expect(
      raced.map((i) => `#${i.iid} ${i.state}${i.closedBy ? ` by ${i.closedBy}` : ''}`),
      'two boxes raced: two issues, the younger closed by racewatch',
    ).toEqual([`#${raced[0]?.iid} opened`, `#${raced[1]?.iid} closed by standin-bot`]);
    const canonical = Math.min(...raced.map((i) => i.iid));
    standin.closeIssue(PROJECT_ID, canonical);

    for (const box of boxes) appendFileSync(box.log, `${box.name}: seen again\n${sample('struct-field.log')}`);
    const again = await Promise.all(boxes.map((box) => runUntilOk(['sweep'], box.env, 5)));
    for (const [i, run] of again.entries()) problems.push(...exitProblems(`${boxes[i]!.name}'s second sweep`, run));
    await standin.whenIdle();

    const expected = await expectedOccurrences(boxes.map((b) => b.log));
    const result = audit(
      standin,
      expected.map((o) => o.id),
    );
    problems.push(...auditProblems(result, expected));
    const open = result.openIssuesPerFingerprint.get(fingerprint) ?? [];
    const lowest = Math.min(...carrying().map((i) => i.iid));
    if (open.length !== 1 || open[0] !== lowest)
      problems.push(
        `open issues of the race: ${open.map((iid) => `#${iid}`).join(', ') || 'none'}; want only #${lowest}, the lowest iid carrying its fingerprint`,
      );
    report('c/reopen-after-duplicate', {
      sightings: expected.length,
      lost: result.lost.length,
      twice: result.twice.length,
      open: open.join(','),
      issues: standin
        .issues(PROJECT_ID)
        .map((i) => `#${i.iid}:${i.state}`)
        .join(','),
    });
    expect(problems, problems.join('\n')).toEqual([]);
  }, 120_000);
});

describe('d. GitLab writes slower than the client timeout', () => {
  it('every POST answered after 3-5 s, timeout 1 s, RACEWATCH_GITLAB_SETTLE=8s: one issue per race, no sighting twice', async () => {
    const box = makeBox('soak-1', { RACEWATCH_GITLAB_SETTLE: '8s' });
    appendFileSync(box.log, ['struct-field.log', 'map-race.log', 'generic-cache.log', 'closures.log'].map(sample).join(''));
    standin.setFlaky({ seed: SEED, rate: 1, kinds: ['slowWrite'], slowWriteMs: [3000, 5000] });
    const runs = await runUntilOk(['scan', box.log], box.env, 5);
    // Writes still under way land now, as they would on a real GitLab.
    await standin.whenIdle();
    const expected = await expectedOccurrences([box.log]);
    const result = audit(
      standin,
      expected.map((o) => o.id),
    );
    const problems = [...exitProblems('the scan', runs), ...auditProblems(result, expected)];
    for (const fingerprint of new Set(expected.map((o) => o.fingerprint))) {
      const issues = standin.issues(PROJECT_ID).filter((i) => fingerprintInMarker(i.description) === fingerprint);
      if (issues.length !== 1)
        problems.push(`${short(fingerprint)}: ${issues.length} issues (${issues.map((i) => `#${i.iid} ${i.state}`).join(', ')}), want 1`);
    }
    const posts = standin.requests.filter((r) => r.method === 'POST');
    report('d/slow-writes', {
      runs: runs.statuses.join(','),
      sightings: expected.length,
      lost: result.lost.length,
      twice: result.twice.length,
      issues: standin.issues(PROJECT_ID).length,
      posts: posts.length,
      slowWrites: standin.flakyHits().slowWrite,
    });
    expect(problems, problems.join('\n')).toEqual([]);
  }, 150_000);
});

describe('e, f. the state directory moved aside after a successful filing', () => {
  const moveStateAside = (box: Box) => renameSync(box.env.RACEWATCH_STATE_DIR!, `${box.env.RACEWATCH_STATE_DIR}.moved-${Date.now()}`);

  it('e. a re-scan with comments already in GitLab posts nothing again (ids from descriptions and notes) and posts what is new', async () => {
    const box = makeBox('soak-1');
    const problems: string[] = [];
    appendFileSync(box.log, LIFETIMES[0]!);
    problems.push(...exitProblems('scan 1', await runUntilOk(['scan', box.log], box.env, 1)));
    appendFileSync(box.log, LIFETIMES[1]!);
    problems.push(...exitProblems('scan 2', await runUntilOk(['scan', box.log], box.env, 1)));
    const alreadyThere = await expectedOccurrences([box.log]);
    const notesBefore = standin.issues(PROJECT_ID).flatMap((i) => standin.notes(PROJECT_ID, i.iid));
    expect(notesBefore.length, 'scan 2 commented the new sightings').toBeGreaterThan(0);

    moveStateAside(box);
    appendFileSync(box.log, LIFETIMES[2]!);
    problems.push(...exitProblems('scan 3, state moved aside', await runUntilOk(['scan', box.log], box.env, 1)));

    const expected = await expectedOccurrences([box.log]);
    const fresh = new Set(expected.map((o) => o.id).filter((id) => !alreadyThere.some((o) => o.id === id)));
    const result = audit(
      standin,
      expected.map((o) => o.id),
    );
    problems.push(...auditProblems(result, expected));
    const newNotes = standin
      .issues(PROJECT_ID)
      .flatMap((i) => standin.notes(PROJECT_ID, i.iid))
      .filter((n) => !notesBefore.some((b) => b.id === n.id));
    const reposted = newNotes.flatMap((n) => occurrenceIdsInMarkers(n.body)).filter((id) => !fresh.has(id));
    if (reposted.length > 0)
      problems.push(`scan 3 posted ${reposted.length} sightings GitLab already had: ${reposted.map((id) => id.slice(0, 12)).join(', ')}`);
    report('e/state-lost-rescan', {
      sightings: expected.length,
      alreadyInGitlab: alreadyThere.length,
      fresh: fresh.size,
      reposted: reposted.length,
      lost: result.lost.length,
      twice: result.twice.length,
      newIssues: standin.issues(PROJECT_ID).length,
    });
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it('f. with the state moved aside, a comment GitLab refuses ends the run with 3; the next healthy run posts it once', async () => {
    const box = makeBox('soak-1');
    appendFileSync(box.log, LIFETIMES[0]!);
    const problems = exitProblems('scan 1', await runUntilOk(['scan', box.log], box.env, 1));
    moveStateAside(box);
    appendFileSync(box.log, LIFETIMES[1]!);
    standin.refuseWrites(500, /\/notes$/);
    const refused = await racewatchAsync(['scan', box.log], box.env);
    if (refused.status !== EXIT_DELIVERY_INCOMPLETE) problems.push(`the scan whose comments GitLab refused exited ${refused.status}, want 3`);
    standin.refuseWrites(null);
    const healthy = await racewatchAsync(['scan', box.log], box.env);
    if (healthy.status !== EXIT_OK) problems.push(`the next, healthy scan exited ${healthy.status}, want 0: ${healthy.stderr.slice(-1000)}`);
    const expected = await expectedOccurrences([box.log]);
    const result = audit(
      standin,
      expected.map((o) => o.id),
    );
    problems.push(...auditProblems(result, expected));
    report('f/state-lost-comment-refused', {
      statuses: `${refused.status},${healthy.status}`,
      sightings: expected.length,
      lost: result.lost.length,
      twice: result.twice.length,
    });
    expect(problems, problems.join('\n')).toEqual([]);
  });
});

describe("g. a report quoting another bug's hidden marker and visible token", () => {
  it("four scans (the last with the state moved aside): each bug has one issue, each bug's sightings are on its own issue", async () => {
    const box = makeBox('soak-1');
    const [other] = (await expectedOccurrences([path.join(SAMPLES_DIR, 'logs/map-race.log')])) as [ExpectedOccurrence];
    // Frame-shaped lines the parser keeps, at the bottom of the victim's first stack: the other bug's token and marker.
    const victimLines = sample('struct-field.log').split('\n');
    const bottom = victimLines.findIndex((line) => line.includes('main.go:29'));
    const hostile = [`  ${issueToken(other.fingerprint)}()`, `      <!-- racewatch:fingerprint ${other.fingerprint} -->:1`];
    const victim = [...victimLines.slice(0, bottom + 1), ...hostile, ...victimLines.slice(bottom + 1)].join('\n');
    const steps = [victim, sample('map-race.log'), victim + sample('map-race.log'), victim + sample('map-race.log')];
    const problems: string[] = [];
    for (const [i, text] of steps.entries()) {
      appendFileSync(box.log, `${box.name}: step ${i}\n${text}`);
      if (i === 3) renameSync(box.env.RACEWATCH_STATE_DIR!, `${box.env.RACEWATCH_STATE_DIR}.moved`);
      problems.push(...exitProblems(`scan ${i + 1}`, await runUntilOk(['scan', box.log], box.env, 3)));
    }
    const expected = await expectedOccurrences([box.log]);
    expect(new Set(expected.map((o) => o.fingerprint)).size, 'the hostile lines leave the victim its own fingerprint').toBe(2);
    const result = audit(
      standin,
      expected.map((o) => o.id),
    );
    problems.push(...auditProblems(result, expected));
    for (const title of new Set(expected.map((o) => o.title))) {
      const issues = standin.issues(PROJECT_ID).filter((i) => i.title === title);
      if (issues.length !== 1) {
        problems.push(`"${title}": ${issues.length} issues (${issues.map((i) => `#${i.iid}`).join(', ')}), want 1`);
        continue;
      }
      for (const o of expected.filter((e) => e.title === title)) {
        const holders = issuesHolding(o.id);
        if (holders.length !== 1 || holders[0] !== issues[0]!.iid)
          problems.push(
            `sighting ${o.id.slice(0, 12)} of "${title}" is on ${holders.map((iid) => `#${iid}`).join(', ') || 'no issue'}, want #${issues[0]!.iid}`,
          );
      }
    }
    report('g/hostile-marker', {
      sightings: expected.length,
      lost: result.lost.length,
      twice: result.twice.length,
      issues: standin
        .issues(PROJECT_ID)
        .map((i) => `#${i.iid} ${i.title}`)
        .join(' | '),
    });
    expect(problems, problems.join('\n')).toEqual([]);
  }, 120_000);
});

describe('h. SIGTERM while GitLab answers every request after 20 s', () => {
  it('the daemon exits within its stop timeout, sends nothing afterwards, releases its locks and leaves valid state written before that', async () => {
    const box = makeBox('soak-1', { RACEWATCH_GITLAB_TIMEOUT: '30s', RACEWATCH_RECONCILE_INTERVAL: '200ms' });
    appendFileSync(box.log, LIFETIMES[0]!);
    const stateDir = box.env.RACEWATCH_STATE_DIR!;
    standin.injectFault({ status: 200, delayMs: 20_000, times: Infinity });
    const daemon = track(startDaemon(box.env));
    await waitFor(() => daemon.output().includes('racewatch daemon following') && standin.requests.length > 0, 'the daemon following and waiting on GitLab');
    const watcher = watchLocks(stateDir);
    await waitFor(() => watcher.held().length > 0, 'the daemon holding its locks');

    // Requests sent once the daemon has said it stopped (its locks released) are as bad as after its exit.
    let requestsAtStopped: number | null = null;
    const stoppedWatch = setInterval(() => {
      if (requestsAtStopped === null && daemon.output().includes('racewatch daemon stopped')) requestsAtStopped = standin.requests.length;
    }, 10);
    const signalled = Date.now();
    daemon.child.kill('SIGTERM');
    const deadline = STOP_TIMEOUT_MS + STOP_SLACK_MS;
    const status = await Promise.race([daemon.exited, sleep(deadline + 25_000).then(() => 'still running' as const)]);
    const took = Date.now() - signalled;
    if (status === 'still running') {
      daemon.child.kill('SIGKILL');
      await daemon.exited;
    }
    const requestsAtExit = standin.requests.length;
    await sleep(2_000);
    watcher.stop();
    clearInterval(stoppedWatch);

    const problems: string[] = [];
    if (status === 'still running')
      problems.push(`still running ${Math.round(took / 1000)} s after SIGTERM (killed); want an exit within ${deadline / 1000} s`);
    else if (took > deadline)
      problems.push(`exited ${Math.round(took / 1000)} s after SIGTERM; want within ${deadline / 1000} s (stop timeout ${STOP_TIMEOUT_MS / 1000} s + slack)`);
    if (status !== 'still running' && status !== 0) problems.push(`exit status ${status}, want 0`);
    const late = standin.requests.slice(requestsAtExit);
    if (late.length > 0) problems.push(`${late.length} requests reached GitLab after the exit: ${late.map((r) => `${r.method} ${r.path}`).join(', ')}`);
    const afterStopped = requestsAtStopped === null ? [] : standin.requests.slice(requestsAtStopped, requestsAtExit);
    if (afterStopped.length > 0)
      problems.push(
        `${afterStopped.length} requests reached GitLab after the daemon logged "racewatch daemon stopped": ${afterStopped.map((r) => `${r.method} ${r.path}`).join(', ')}`,
      );
    for (const lock of lockFiles(stateDir)) if (lock.holder !== null) problems.push(`${lock.name} is not released (pid ${lock.holder})`);
    for (const file of stateFilesIn(stateDir)) {
      const text = readFileSync(path.join(stateDir, file), 'utf8');
      try {
        JSON.parse(text);
      } catch {
        problems.push(`${file} is not valid JSON (${text.length} bytes)`);
      }
      const atRelease = watcher.atRelease.get(file);
      if (atRelease !== undefined && atRelease !== stampOf(path.join(stateDir, file))) problems.push(`${file} was written after its lock was released`);
    }
    report('h/sigterm-slow-gitlab', {
      status,
      tookMs: took,
      requestsAtExit,
      afterStopped: afterStopped.length,
      lateRequests: late.length,
      locks: lockFiles(stateDir)
        .map((l) => `${l.name}:${l.holder === null ? 'released' : `held by ${l.holder}`}`)
        .join(','),
    });
    expect(problems, problems.join('\n')).toEqual([]);
  }, 90_000);
});

describe('i. the token revoked while the daemon runs, then restored', () => {
  it('401s keep the sightings pending and retried; once the token works again each is filed once', async () => {
    const box = makeBox('soak-1', { RACEWATCH_RECONCILE_INTERVAL: '200ms' });
    const daemon = track(startDaemon(box.env));
    await waitFor(() => daemon.output().includes('racewatch daemon following'), 'the daemon following');
    standin.revokeToken();
    appendFileSync(box.log, LIFETIMES[0]!);
    await waitFor(() => daemon.output().includes('GitLab rejected the token (401)'), 'a 401 reported with the setting to fix', 30_000);
    standin.restoreToken();
    const expected = await expectedOccurrences([box.log]);
    const complete = await waitUntilRecorded(
      standin,
      expected.map((o) => o.id),
      60_000,
    );
    const { result, problems } = await stopAndAudit(daemon, expected, complete);
    report('i/token-revoked', { sightings: expected.length, lost: result.lost.length, twice: result.twice.length });
    expect(problems, problems.join('\n')).toEqual([]);
  }, 120_000);
});

// ---------------------------------------------------------------------------------------------------------
// Lock files, read without racewatch's code: `<state file>.lock` holding a pid (the original lock), or
// `<state file>.lock.<N>` holding a JSON owner record with `released` (the generation-numbered lock).

interface LockFile {
  name: string;
  stateFile: string;
  /** The pid of an unreleased lock; null when released. */
  holder: number | null;
}

function lockFiles(stateDir: string): LockFile[] {
  if (!existsSync(stateDir)) return [];
  return readdirSync(stateDir)
    .filter((name) => /\.lock(\.\d+)?$/.test(name))
    .flatMap((name) => {
      let text: string;
      try {
        text = readFileSync(path.join(stateDir, name), 'utf8');
      } catch {
        return []; // removed while we looked
      }
      return [{ name, stateFile: name.replace(/\.lock(\.\d+)?$/, ''), holder: lockHolder(text) }];
    });
}

function lockHolder(text: string): number | null {
  try {
    const record = JSON.parse(text) as { pid?: number; released?: boolean } | number;
    if (typeof record === 'number') return record;
    return record.released === true ? null : (record.pid ?? -1);
  } catch {
    return Number(text.trim()) || -1;
  }
}

function stateFilesIn(stateDir: string): string[] {
  return existsSync(stateDir) ? readdirSync(stateDir).filter((name) => /\.json$/.test(name)) : [];
}

function stampOf(file: string): string {
  if (!existsSync(file)) return 'absent';
  const stat = statSync(file, { bigint: true });
  return `${stat.mtimeNs}:${stat.size}:${stat.ino}`;
}

/** Polls the state directory; when a state file's lock goes from held to released, notes the state file as it was. */
function watchLocks(stateDir: string) {
  const wasHeld = new Set<string>();
  const atRelease = new Map<string, string>();
  const held = () => [
    ...new Set(
      lockFiles(stateDir)
        .filter((l) => l.holder !== null)
        .map((l) => l.stateFile),
    ),
  ];
  const poll = () => {
    const now = new Set(held());
    for (const stateFile of wasHeld) {
      if (!now.has(stateFile) && !atRelease.has(stateFile)) atRelease.set(stateFile, stampOf(path.join(stateDir, stateFile)));
    }
    for (const stateFile of now) wasHeld.add(stateFile);
  };
  const timer = setInterval(poll, 10);
  return {
    held,
    atRelease,
    stop: () => clearInterval(timer),
  };
}
