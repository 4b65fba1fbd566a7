// Fault suite for following logs through rotation: the built daemon against the GitLab stand-in while an
// in-test writer appends real race reports (the 9 reports of samples/logs/soakd-restarts.log, each copy
// made its own occurrence by a `req <n>` line before it) and a rotator rotates the log at a fixed interval.
// The rotator never deletes what was written: every generation is kept (svc.log.<k>, numbered by rotation
// count, or a copy made just before a delete), so the expected occurrences are a dry-run scan of all of
// them (read as one lineage when the writer finishes reports at the start of the new file). Each scenario counts what GitLab holds in the end: reports lost, filed twice, filed cut off
// (split), and filed under an id no log holds. ROTATION_REPORTS sets the reports per scenario (default
// 60; `npm run faults:following` runs 1,000), ROTATION_SEED every random choice; ROTATION_KEEP=1 keeps each scenario's directory (logs, kept
// generations, daemon.log with the daemon's output; LOG_LEVEL=debug shows more) and prints where it is.
import {
  appendFileSync,
  closeSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { extractOptions } from '../src/cli/wiring.js';
import { loadSettings } from '../src/config/settings.js';
import { RaceExtractor } from '../src/pipeline/extract.js';
import { fingerprintInMarker, occurrenceIdsInMarkers } from '../src/sink/gitlab/marker.js';
import { jsonLines, racewatchAsync } from './support/cli.js';
import { recordedOccurrences, killIfRunning, startDaemon, type DaemonProcess } from './support/daemon.js';
import { audit, auditProblems, type ExpectedOccurrence } from './support/delivery-audit.js';
import { startGitlabStandin, type GitlabStandin } from './support/gitlab-standin.js';
import { CLOSING_LINE, soakReportTexts } from './support/samples.js';
import { seededRandom } from './support/seeded-random.js';

const REPORTS = Math.max(1, Number(process.env.ROTATION_REPORTS ?? 60));
const SEED = Number(process.env.ROTATION_SEED ?? 20261203);
const PROJECT_ID = 42;
const RECONCILE_MS = 200;
const REPORT_TIMEOUT_MS = 2_000;
/** After the writer stops: how long GitLab may stay silent before the daemon counts as settled, and the cap. */
const SETTLE_QUIET_MS = 5_000;
const SETTLE_MAX_MS = 30_000;
/** README: on SIGTERM the daemon tries one last delivery, at most 10 s. */
const STOP_BOUND_MS = 20_000;

const REPORT_TEXTS = soakReportTexts();

/** A report cut after the line below its `Previous …` header: the first stack whole, the second not begun. */
function halves(text: string): [string, string] {
  const lines = text.split('\n');
  const cut = lines.findIndex((line) => line.startsWith('Previous')) + 2;
  return [`${lines.slice(0, cut).join('\n')}\n`, lines.slice(cut).join('\n')];
}

type RotationKind = 'rename' | 'copytruncate' | 'recreate' | 'symlink';

interface Scenario {
  name: string;
  title: string;
  rotation: RotationKind;
  /** `glob`: RACEWATCH_PATHS=<dir>/svc.log*; `file`: RACEWATCH_PATHS=<dir>/svc.log. */
  spec: 'glob' | 'file';
  intervalMs: number;
  /**
   * Half the reports are cut in two by the next rotation. `old-descriptor`: the writer holds one descriptor
   * across it, so the tail lands in the rotated file (a program's stderr). `reopened`: the writer opens
   * the path again for the tail, so it lands at the start of the new file (a logger that reopens).
   */
  spanning?: 'old-descriptor' | 'reopened';
}

let standin: GitlabStandin;
let dir: string;
let daemon: DaemonProcess | null;

beforeEach(async () => {
  standin = await startGitlabStandin();
  dir = mkdtempSync(path.join(tmpdir(), 'racewatch-following-'));
  daemon = null;
});

afterEach(async () => {
  await killIfRunning(daemon);
  await standin.close();
  if (process.env.ROTATION_KEEP) console.log(`[following] kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------------------
// The log and its rotation. Writer and rotator run in this process's event loop, so a rotation falls
// between two writes, never inside one (as rename and truncate do against a real writer's write calls).

interface RotatedLog {
  /** The path the writer opens for each report (a symlink in the symlink scheme). */
  live: string;
  spec: string;
  rotate(): void;
  rotations(): number;
  /** Every file that holds what was written, oldest first: the expected occurrences are their scan. */
  generations(): string[];
}

function rotatedLog(scenario: Scenario): RotatedLog {
  const logs = path.join(dir, 'logs');
  const kept = path.join(dir, 'kept');
  mkdirSync(logs);
  mkdirSync(kept);
  const live = path.join(logs, 'svc.log');
  const spec = scenario.spec === 'glob' ? path.join(logs, 'svc.log*') : live;
  let k = 0;
  const older: string[] = [];
  const log = (rotate: () => void, generations: () => string[]): RotatedLog => ({
    live,
    spec,
    rotate: () => {
      k += 1;
      rotate();
    },
    rotations: () => k,
    generations,
  });
  switch (scenario.rotation) {
    case 'rename':
      // logrotate's default (`create`): rename, then a new empty file at the path.
      writeFileSync(live, '');
      return log(
        () => {
          older.push(`${live}.${k}`);
          renameSync(live, `${live}.${k}`);
          writeFileSync(live, '');
        },
        () => [...older, live],
      );
    case 'copytruncate':
      writeFileSync(live, '');
      return log(
        () => {
          older.push(`${live}.${k}`);
          copyFileSync(live, `${live}.${k}`);
          truncateSync(live, 0);
        },
        () => [...older, live],
      );
    case 'recreate':
      // Deleted and created again; a copy taken just before the delete (outside the paths) keeps its bytes.
      writeFileSync(live, '');
      return log(
        () => {
          older.push(path.join(kept, `svc.log.${k}`));
          copyFileSync(live, path.join(kept, `svc.log.${k}`));
          rmSync(live);
          writeFileSync(live, '');
        },
        () => [...older, live],
      );
    case 'symlink': {
      const gen = (n: number) => path.join(logs, `gen${n}`);
      writeFileSync(gen(0), '');
      symlinkSync('gen0', live);
      return log(
        () => {
          writeFileSync(gen(k), '');
          symlinkSync(`gen${k}`, `${live}.next`);
          renameSync(`${live}.next`, live);
        },
        () => Array.from({ length: k + 1 }, (_, n) => gen(n)),
      );
    }
  }
}

interface Written {
  written: number;
  /** Reports (by `req <n>`) whose head was written before a rotation and whose tail after it. */
  spanning: Set<number>;
  rotations: number;
  writingMs: number;
}

/** Writes REPORTS reports while rotating every `intervalMs`; resolves when the last report is written and rotation stopped. */
async function writeWhileRotating(scenario: Scenario, log: RotatedLog, random: () => number): Promise<Written> {
  const started = Date.now();
  let writing = true;
  const spanning = new Set<number>();
  const rotator = (async () => {
    while (writing) {
      await sleep(scenario.intervalMs);
      if (writing) log.rotate();
    }
  })();
  // About three reports per generation, but never slower than one per 100 ms (copytruncate at 1.5 s).
  const meanGap = Math.min(100, Math.max(2, scenario.intervalMs / 3));
  for (let n = 0; n < REPORTS; n++) {
    const text = `req ${n}\n${REPORT_TEXTS[n % REPORT_TEXTS.length]!}`;
    if (scenario.spanning && random() < 0.5) {
      const [head, tail] = halves(text);
      const fd = openSync(log.live, 'a');
      writeSync(fd, head);
      const before = log.rotations();
      const deadline = Date.now() + 3 * scenario.intervalMs;
      while (log.rotations() === before && Date.now() < deadline) await sleep(1);
      // "A moment" after the rename, well below RACEWATCH_REPORT_TIMEOUT.
      await sleep(random() * Math.min(scenario.intervalMs, 30));
      if (scenario.spanning === 'old-descriptor') writeSync(fd, tail);
      closeSync(fd);
      if (scenario.spanning === 'reopened') appendFileSync(log.live, tail);
      if (log.rotations() !== before) spanning.add(n);
    } else {
      // A fresh O_APPEND open per report: after a rename it writes to the new file.
      appendFileSync(log.live, text);
    }
    await sleep(random() * 2 * meanGap);
  }
  writing = false;
  await rotator;
  return { written: REPORTS, spanning, rotations: log.rotations(), writingMs: Date.now() - started };
}

// ---------------------------------------------------------------------------------------------------------
// Counting.

interface Scanned extends ExpectedOccurrence {
  truncated: boolean;
  source: string;
  line: number;
}

async function scanAll(files: string[]): Promise<Scanned[]> {
  const result = await racewatchAsync(['scan', '--dry-run', '--json', ...files], {});
  if (result.status !== 0) throw new Error(`dry-run scan exited ${result.status}: ${result.stderr.slice(-2000)}`);
  return jsonLines(result.stdout).map((o) => ({
    id: String(o.id),
    fingerprint: String(o.fingerprint),
    title: String(o.title),
    truncated: o.truncated === true,
    source: String(o.source),
    line: Number(o.line),
  }));
}

/**
 * The generations read in order as one lineage, each offered the report its predecessor left open at its
 * end (RaceExtractor.offerOpenReportTo, as the daemon and the sweep do), for a writer that finishes a
 * report at the start of the new file: a scan of each file alone would see two halves. The files are
 * static here, so this is what any follower must find, whatever the timing it followed them with.
 */
function scanAsLineage(files: string[]): Scanned[] {
  const options = extractOptions(loadSettings({}, {}));
  const extractors = files.map((file) => new RaceExtractor(file, options));
  const events = extractors.flatMap((extractor, k) => {
    if (k > 0) extractors[k - 1]!.offerOpenReportTo(extractor);
    return extractor.push(readFileSync(files[k]!));
  });
  events.push(...[...extractors].reverse().flatMap((extractor) => extractor.end()));
  return events.flatMap((event) =>
    event.type === 'race'
      ? [
          {
            id: event.occurrence.id,
            fingerprint: event.occurrence.fingerprint,
            title: event.occurrence.title,
            truncated: event.occurrence.truncated,
            source: event.occurrence.source,
            line: event.occurrence.line,
          },
        ]
      : [],
  );
}

/** Which written report (`req <n>`, two lines above its marker) each scanned occurrence is. */
function writtenIndexOf(scanned: Scanned[]): Map<string, number> {
  const lines = new Map<string, string[]>();
  const index = new Map<string, number>();
  for (const o of scanned) {
    if (!lines.has(o.source)) lines.set(o.source, readFileSync(o.source, 'utf8').split('\n'));
    const req = /^req (\d+)$/.exec(lines.get(o.source)![o.line - 3] ?? '');
    if (req) index.set(o.id, Number(req[1]));
  }
  return index;
}

/** The report a description or note quotes (the first fenced block), or null. */
function quotedReport(text: string): string | null {
  return /^(`{3,})text\n([\s\S]*?)\n\1$/m.exec(text)?.[2] ?? null;
}

/**
 * Ids GitLab holds as cut-off reports, where its text shows it: a description saying so (issue-text.ts),
 * or a quoted report that does not end with its closing line. A description quotes its first sighting, a
 * note its latest (the first and the last id of their markers).
 */
function visiblyCutOffIds(): string[] {
  const ids: string[] = [];
  const check = (text: string | null | undefined, pick: (ids: string[]) => string | undefined) => {
    const body = text ?? '';
    const quoted = quotedReport(body);
    const cut = body.includes('cut off in the log') || (quoted !== null && !quoted.trimEnd().endsWith(CLOSING_LINE));
    const id = pick(occurrenceIdsInMarkers(body));
    if (cut && id) ids.push(id);
  };
  for (const issue of standin.issues(PROJECT_ID)) {
    check(issue.description, (held) => held[0]);
    for (const note of standin.notes(PROJECT_ID, issue.iid)) check(note.body, (held) => held.at(-1));
  }
  return ids;
}

/** The totals of the daemon's `racewatch daemon stopped` line (reports, truncated, …), or null. */
function stoppedTotals(output: string): Record<string, unknown> | null {
  const line = output.split('\n').find((l) => l.includes('"msg":"racewatch daemon stopped"'));
  if (!line) return null;
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/** Waits until GitLab holds every expected id, or no request reached it for SETTLE_QUIET_MS (bounded by SETTLE_MAX_MS). */
async function settle(expectedIds: string[]): Promise<{ complete: boolean; ms: number }> {
  const started = Date.now();
  let requests = -1;
  let lastChange = started;
  while (Date.now() - started < SETTLE_MAX_MS) {
    const held = new Set(recordedOccurrences(standin, PROJECT_ID));
    if (expectedIds.every((id) => held.has(id))) {
      // A late second filing would come from a file read again: give it a moment to show.
      await sleep(1_000);
      return { complete: true, ms: Date.now() - started };
    }
    if (standin.requests.length !== requests) {
      requests = standin.requests.length;
      lastChange = Date.now();
    } else if (Date.now() - lastChange >= SETTLE_QUIET_MS) break;
    await sleep(100);
  }
  return { complete: false, ms: Date.now() - started };
}

function report(scenario: string, totals: Record<string, unknown>): void {
  console.log(
    `[following] ${scenario}: ${Object.entries(totals)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(' ')}`,
  );
}

// ---------------------------------------------------------------------------------------------------------

async function runScenario(scenario: Scenario, watch: 'events' | 'poll'): Promise<void> {
  const started = Date.now();
  const random = seededRandom(SEED + scenario.intervalMs + (watch === 'poll' ? 1 : 0) + (scenario.spanning ? 2 : 0));
  const log = rotatedLog(scenario);
  daemon = startDaemon({
    GITLAB_URL: standin.url,
    GITLAB_TOKEN: standin.token,
    GITLAB_PROJECT: 'soak/svc',
    RACEWATCH_STATE_DIR: path.join(dir, 'state'),
    RACEWATCH_PATHS: log.spec,
    RACEWATCH_WATCH: watch,
    RACEWATCH_RECONCILE_INTERVAL: `${RECONCILE_MS}ms`,
    RACEWATCH_REPORT_TIMEOUT: `${REPORT_TIMEOUT_MS}ms`,
    RACEWATCH_COMMENT_WINDOW: '0',
    RACEWATCH_GITLAB_SETTLE: '1s',
    RACEWATCH_GITLAB_BACKOFF: '10ms',
    RACEWATCH_HOST: 'soak-1',
  });
  const running = daemon;
  const deadline = Date.now() + 20_000;
  while (!running.output().includes('racewatch daemon following')) {
    if (Date.now() > deadline || running.child.exitCode !== null) throw new Error(`the daemon did not start:\n${running.output().slice(-2000)}`);
    await sleep(20);
  }

  const written = await writeWhileRotating(scenario, log, random);
  const scanned = scenario.spanning === 'reopened' ? scanAsLineage(log.generations()) : await scanAll(log.generations());
  // The test's own bookkeeping: every report written is in exactly one kept generation, whole.
  expect(scanned.length, 'reports in the kept generations').toBe(written.written);
  expect(scanned.filter((o) => o.truncated).length, 'reports cut off in the kept generations').toBe(0);
  const expectedIds = scanned.map((o) => o.id);

  const settled = await settle(expectedIds);
  running.child.kill('SIGTERM');
  const status = await Promise.race([running.exited, sleep(STOP_BOUND_MS).then(() => 'still running' as const)]);
  if (status === 'still running') {
    running.child.kill('SIGKILL');
    await running.exited;
  }
  await standin.whenIdle();
  writeFileSync(path.join(dir, 'daemon.log'), running.output());

  const result = audit(standin, expectedIds, PROJECT_ID);
  const scannedTruncated = new Set(scanned.filter((o) => o.truncated).map((o) => o.id));
  const held = new Set(recordedOccurrences(standin, PROJECT_ID));
  const splitIds = new Set([...visiblyCutOffIds(), ...[...held].filter((id) => scannedTruncated.has(id))]);
  const totals = stoppedTotals(running.output());
  const daemonTruncated = Number(totals?.truncated ?? 0);
  // Every cut-off report the daemon handed to the sink counts, whether or not GitLab's text shows it.
  const split = Math.max(splitIds.size, daemonTruncated);

  const problems = auditProblems(result, scanned);
  // auditProblems wants one open issue for every fingerprint GitLab has, known or not: a report stitched
  // from two others (a wrong fingerprint) passes that, so issues of fingerprints no log has are counted here.
  const fingerprints = new Set(scanned.map((o) => o.fingerprint));
  const foreign = standin.issues(PROJECT_ID).filter((issue) => !fingerprints.has(fingerprintInMarker(issue.description) ?? ''));
  if (foreign.length > 0) problems.push(`${foreign.length} issues for races no log holds: ${foreign.map((i) => `#${i.iid} "${i.title}"`).join(', ')}`);
  const indexOf = writtenIndexOf(scanned);
  const lostReports = result.lost.map((id) => indexOf.get(id) ?? -1).sort((a, b) => a - b);
  const lostSpanning = lostReports.filter((n) => written.spanning.has(n)).length;
  if (lostReports.length > 0)
    problems.push(`lost reports (req <n>): ${lostReports.join(', ')}; ${lostSpanning} of them finished through the old descriptor after a rotation`);
  if (split > 0) problems.push(`${split} reports filed cut off (${splitIds.size} visibly in GitLab, ${daemonTruncated} by the daemon's count)`);
  // A file read twice files nothing twice (occurrence ids), but only a copy (copytruncate) may be read again.
  const daemonReports = Number(totals?.reports ?? Number.NaN);
  if (scenario.rotation !== 'copytruncate' && daemonReports !== written.written)
    problems.push(`the daemon read ${daemonReports} reports, ${written.written} were written`);
  if (status !== 0) problems.push(`the daemon ${status === 'still running' ? 'was still running' : `exited ${status}`} after SIGTERM, want exit 0`);

  report(`${scenario.name}/${watch}`, {
    written: written.written,
    lost: result.lost.length,
    twice: result.twice.length,
    split,
    unexpected: result.unexpected.length,
    rotations: written.rotations,
    spanning: written.spanning.size,
    lostSpanning,
    foreignIssues: foreign.length,
    daemonReports: totals?.reports ?? '?',
    settled: settled.complete ? 'yes' : 'no',
    writingMs: written.writingMs,
    ms: Date.now() - started,
  });
  expect(problems, `${scenario.title} (${watch}):\n${problems.join('\n')}`).toEqual([]);
}

const TEST_TIMEOUT_MS = 120_000 + REPORTS * 200;

const GROUPS: { title: string; scenarios: Scenario[] }[] = [
  {
    title: '1. rename rotation, glob spec svc.log*',
    scenarios: [
      { name: '1/rename-glob-300ms', title: 'renamed every 300 ms', rotation: 'rename', spec: 'glob', intervalMs: 300 },
      { name: '1/rename-glob-50ms', title: 'renamed every 50 ms', rotation: 'rename', spec: 'glob', intervalMs: 50 },
      {
        name: '1/rename-glob-300ms-held-fd',
        title: 'renamed every 300 ms, the writer finishing a report through its old descriptor after the rename',
        rotation: 'rename',
        spec: 'glob',
        intervalMs: 300,
        spanning: 'old-descriptor',
      },
      {
        name: '1/rename-glob-50ms-held-fd',
        title: 'renamed every 50 ms, the writer finishing a report through its old descriptor after the rename',
        rotation: 'rename',
        spec: 'glob',
        intervalMs: 50,
        spanning: 'old-descriptor',
      },
      {
        name: '1/rename-glob-50ms-reopened',
        title: 'renamed every 50 ms, the writer finishing a report at the start of the new file',
        rotation: 'rename',
        spec: 'glob',
        intervalMs: 50,
        spanning: 'reopened',
      },
    ],
  },
  {
    title: '2. rename rotation, single-file spec svc.log (the generations svc.log.<k> are found as its siblings)',
    scenarios: [
      { name: '2/rename-file-300ms', title: 'renamed every 300 ms', rotation: 'rename', spec: 'file', intervalMs: 300 },
      { name: '2/rename-file-20ms', title: 'renamed every 20 ms', rotation: 'rename', spec: 'file', intervalMs: 20 },
      {
        name: '2/rename-file-50ms-held-fd',
        title: 'renamed every 50 ms, the writer finishing a report through its old descriptor after the rename',
        rotation: 'rename',
        spec: 'file',
        intervalMs: 50,
        spanning: 'old-descriptor',
      },
      {
        name: '2/rename-file-50ms-reopened',
        title: 'renamed every 50 ms, the writer finishing a report at the start of the new file',
        rotation: 'rename',
        spec: 'file',
        intervalMs: 50,
        spanning: 'reopened',
      },
    ],
  },
  {
    title: '3. copytruncate (copy to svc.log.<k>, truncate svc.log), O_APPEND writer',
    scenarios: [
      { name: '3/copytruncate-1500ms', title: 'glob spec, copied and truncated every 1.5 s', rotation: 'copytruncate', spec: 'glob', intervalMs: 1_500 },
      { name: '3/copytruncate-300ms', title: 'glob spec, copied and truncated every 300 ms', rotation: 'copytruncate', spec: 'glob', intervalMs: 300 },
      {
        name: '3/copytruncate-file-300ms',
        title: 'single-file spec, copied and truncated every 300 ms',
        rotation: 'copytruncate',
        spec: 'file',
        intervalMs: 300,
      },
    ],
  },
  {
    title: '4. the path replaced, single-file spec svc.log',
    scenarios: [
      { name: '4/recreate-300ms', title: 'deleted and created again every 300 ms', rotation: 'recreate', spec: 'file', intervalMs: 300 },
      { name: '4/symlink-300ms', title: 'a symlink svc.log -> gen<k> retargeted every 300 ms', rotation: 'symlink', spec: 'file', intervalMs: 300 },
    ],
  },
];

for (const group of GROUPS) {
  describe(group.title, () => {
    for (const scenario of group.scenarios) {
      for (const watch of ['events', 'poll'] as const) {
        it(
          `${scenario.title}, RACEWATCH_WATCH=${watch}: ${REPORTS} reports, none lost, none twice, none split`,
          () => runScenario(scenario, watch),
          TEST_TIMEOUT_MS,
        );
      }
    }
  });
}
