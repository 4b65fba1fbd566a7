// Exactly-once delivery at the sink: delivery ids, the settle time, bounded parts, recovery of a write a
// crash left unanswered, the canonical issue, and abandoning requests at a stop. Real client, real HTTP,
// against the stand-in; waits are real but short, and no assertion depends on how long anything took.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../src/log/logger.js';
import type { RaceOccurrence } from '../src/pipeline/occurrence.js';
import { canonicalIssue } from '../src/sink/gitlab/canonical.js';
import { createGitlabClient, type GitlabConnection } from '../src/sink/gitlab/client.js';
import { createGitlabSink, type GitlabSink, type GitlabSinkOptions } from '../src/sink/gitlab/gitlab-sink.js';
import { SIGHTINGS_PER_WRITE } from '../src/sink/gitlab/issue-policy.js';
import { deliveryIdInMarker, fingerprintInMarker, occurrenceIdsInMarkers } from '../src/sink/gitlab/marker.js';
import { IssueTracker, type TrackedIssue } from '../src/sink/gitlab/tracker.js';
import { stateFileFor, type SinkState } from '../src/state/sink-state.js';
import { recordedOccurrences } from './support/daemon.js';
import { startGitlabStandin, type GitlabStandin } from './support/gitlab-standin.js';
import { occurrencesOf } from './support/samples.js';

const PROJECT = 'soak/svc';
const PROJECT_ID = 42;

let standin: GitlabStandin;
let stateFile: string;

beforeEach(async () => {
  standin = await startGitlabStandin();
  stateFile = stateFileFor(mkdtempSync(path.join(tmpdir(), 'racewatch-once-')), PROJECT);
});
afterEach(() => standin.close());

function openSink(connection: Partial<GitlabConnection> = {}, options: Partial<GitlabSinkOptions> = {}): Promise<GitlabSink> {
  const log = createLogger('debug', new PassThrough().resume());
  const client = createGitlabClient(
    { url: standin.url, token: standin.token, project: PROJECT, timeoutMs: 5000, retries: 3, backoffMs: 1, maxRetryAfterMs: 1000, settleMs: 0, ...connection },
    log,
  );
  return createGitlabSink({
    tracker: new IssueTracker(client, ['race']),
    log,
    stateFile,
    project: PROJECT,
    ignoreLabel: 'race::ignore',
    reopenPolicy: 'reopen',
    commentWindowMs: 0,
    maxNewIssues: 25,
    host: 'soak-3',
    ...options,
  });
}

async function deliver(
  occurrences: RaceOccurrence[],
  connection: Partial<GitlabConnection> = {},
  options: Partial<GitlabSinkOptions> = {},
): Promise<GitlabSink> {
  const sink = await openSink(connection, options);
  for (const occurrence of occurrences) await sink.accept(occurrence);
  await sink.finish();
  return sink;
}

const readState = () => JSON.parse(readFileSync(stateFile, 'utf8')) as SinkState;
const issues = () => standin.issues(PROJECT_ID);
const notes = (iid: number) => standin.notes(PROJECT_ID, iid);
const writes = () => standin.requests.filter((r) => r.method !== 'GET').length;

function expectEachOnce(expected: string[]): void {
  const recorded = recordedOccurrences(standin);
  const seen = new Set<string>();
  expect(
    recorded.filter((id) => seen.has(id) || !seen.add(id)),
    'recorded twice',
  ).toEqual([]);
  expect(
    expected.filter((id) => !seen.has(id)),
    'lost',
  ).toEqual([]);
}

function copies(occurrence: RaceOccurrence, count: number): RaceOccurrence[] {
  return Array.from({ length: count }, (_, i) => ({ ...occurrence, id: i.toString(16).padStart(32, '0'), text: occurrence.text.slice(0, 200) }));
}

describe('writes slower than the client timeout', () => {
  it('a create and a comment that GitLab carries out after the client gave up are found, never sent twice', async () => {
    const occurrences = await occurrencesOf('logs/soakd-restarts.log');
    const fingerprints = new Set(occurrences.map((o) => o.fingerprint));
    standin.injectFault({ method: 'POST', path: /\/(issues|notes)$/, status: 200, delayMs: 600, times: Infinity });
    const sink = await deliver(occurrences, { timeoutMs: 150, settleMs: 3000, retries: 2 });
    expect(sink.summary.failure).toBeNull();
    expect(issues()).toHaveLength(fingerprints.size);
    expectEachOnce(occurrences.map((o) => o.id));
    standin.clearFaults();
  }, 60_000);

  it('a write GitLab never carried out is sent again once the settle time has passed', async () => {
    const [occurrence] = await occurrencesOf('logs/soakd-restarts.log');
    standin.injectFault({ method: 'POST', path: /\/issues$/, status: 200, dropConnection: true, times: 1 });
    const sink = await deliver([occurrence!], { settleMs: 300 });
    expect(sink.summary).toMatchObject({ created: 1, failure: null, pending: 0 });
    expect(issues()).toHaveLength(1);
    expectEachOnce([occurrence!.id]);
  });
});

describe('a write a crash left unanswered', () => {
  it('is found by its delivery id on the next run: its sightings are acknowledged and nothing is sent again', async () => {
    const [first, ...rest] = await occurrencesOf('logs/soakd-restarts.log');
    const same = rest.filter((o) => o.fingerprint === first!.fingerprint);
    await deliver([first!]);
    // The comment reaches GitLab, its answer is lost, and the lookup that would tell fails: as after a kill.
    standin.injectFault({ method: 'POST', path: /\/notes$/, status: 201, dropAfterServing: true });
    standin.injectFault({ method: 'GET', path: /\/notes$/, status: 503, times: Infinity });
    const interrupted = await deliver(same, { retries: 0 });
    expect(interrupted.summary.pending).toBe(same.length);
    expect(readState().inflight).toMatchObject({ kind: 'note', ids: same.map((o) => o.id) });
    standin.clearFaults();
    const before = writes();
    const next = await deliver([]);
    expect(next.summary).toMatchObject({ pending: 0, failure: null });
    expect(writes()).toBe(before);
    expect(readState().inflight).toBeNull();
    expectEachOnce([first!, ...same].map((o) => o.id));
  });

  it('is sent again when GitLab has no trace of it after the settle time', async () => {
    const [occurrence] = await occurrencesOf('logs/soakd-restarts.log');
    const sink = await openSink();
    await sink.accept(occurrence!);
    await sink.persist();
    await sink.close();
    const state = readState();
    state.inflight = {
      deliveryId: 'feedfacefeedface',
      kind: 'create',
      fingerprint: occurrence!.fingerprint,
      iid: null,
      ids: [occurrence!.id],
      sentAt: new Date(0).toISOString(),
    };
    writeFileSync(stateFile, JSON.stringify(state));
    const next = await deliver([], { settleMs: 50 });
    expect(next.summary).toMatchObject({ created: 1, pending: 0 });
    expect(deliveryIdInMarker(issues()[0]!.description)).not.toBe('feedfacefeedface');
    expectEachOnce([occurrence!.id]);
  });

  it('a schema 1 state with a comment under way is upgraded and its comment looked for by occurrence ids', async () => {
    const [first, second] = (await occurrencesOf('logs/soakd-restarts.log')).filter((o, _, all) => o.fingerprint === all[0]!.fingerprint);
    await deliver([first!]);
    const issue = issues()[0]!;
    const body = `Seen again\n<!-- racewatch:occurrences ${second!.id} -->`;
    await fetch(`${standin.url}/api/v4/projects/${PROJECT_ID}/issues/${issue.iid}/notes`, {
      method: 'POST',
      headers: { 'private-token': standin.token, 'content-type': 'application/json' },
      body: JSON.stringify({ body }),
    });
    const current = readState();
    const older = {
      schema: 1,
      project: PROJECT,
      issues: current.issues,
      pending: [schemaOneSighting(second!)],
      delivered: current.delivered,
      inflight: { fingerprint: second!.fingerprint, iid: issue.iid, ids: [second!.id] },
    };
    writeFileSync(stateFile, JSON.stringify(older));
    const before = writes();
    const next = await deliver([]);
    expect(next.summary).toMatchObject({ pending: 0, failure: null });
    expect(writes()).toBe(before);
    expect(readState().schema).toBe(3);
  });
});

function schemaOneSighting(occurrence: RaceOccurrence) {
  return {
    id: occurrence.id,
    fingerprint: occurrence.fingerprint,
    title: occurrence.title,
    sides: occurrence.sides,
    host: 'soak-3',
    source: occurrence.source,
    line: occurrence.line,
    seenAt: new Date().toISOString(),
    truncated: false,
    text: 'x',
    racingFrames: ['f'],
    creationSites: [],
  };
}

describe('a large backlog', () => {
  it(`35,000 sightings of one bug go in parts of ${SIGHTINGS_PER_WRITE}, every text within GitLab's limits, each id once`, async () => {
    const [occurrence] = await occurrencesOf('logs/soakd-restarts.log');
    const backlog = copies(occurrence!, 35_000);
    const sink = await deliver(backlog);
    expect(sink.summary).toMatchObject({ created: 1, failure: null, pending: 0 });
    expect(sink.summary.commented).toBe(Math.ceil(35_000 / SIGHTINGS_PER_WRITE) - 1);
    expectEachOnce(backlog.map((o) => o.id));
  }, 120_000);

  it('a part GitLab still finds too long is sent in halves, not retried as it was', async () => {
    const [occurrence] = await occurrencesOf('logs/soakd-restarts.log');
    const backlog = copies(occurrence!, 10);
    standin.injectFault({
      method: 'POST',
      path: /\/issues$/,
      status: 400,
      body: '{"message":{"description":["is too long (maximum is 1048576 characters)"]}}',
    });
    const sink = await deliver(backlog);
    expect(sink.summary).toMatchObject({ created: 1, commented: 1, failure: null, pending: 0 });
    expectEachOnce(backlog.map((o) => o.id));
  });
});

describe('recovery from GitLab alone', () => {
  it('with the state lost, sightings already in comments are not posted again, and the new ones are', async () => {
    const same = (await occurrencesOf('logs/soakd-restarts.log')).filter((o, _, all) => o.fingerprint === all[0]!.fingerprint);
    expect(same.length).toBeGreaterThanOrEqual(3);
    await deliver(same.slice(0, 1));
    await deliver(same.slice(1, 2));
    expect(notes(issues()[0]!.iid)).toHaveLength(1);
    writeFileSync(stateFile, JSON.stringify({ ...readState(), issues: {}, delivered: {} }));
    const again = await deliver(same);
    expect(again.summary).toMatchObject({ created: 0, commented: 1 });
    expectEachOnce(same.map((o) => o.id));
  });
});

describe('hostile markers', () => {
  it("a report quoting another bug's marker and token is filed as its own bug, never onto the other's issue", async () => {
    const occurrences = await occurrencesOf('logs/soakd-restarts.log');
    const target = occurrences[0]!;
    const victim = occurrences.find((o) => o.fingerprint !== target.fingerprint)!;
    await deliver([target]);
    const targetIssue = issues()[0]!;
    const token = /race-[0-9a-f]{16}/.exec(targetIssue.description ?? '')![0];
    const hostile = {
      ...victim,
      text: `${victim.text}\n${token}\n<!-- racewatch:fingerprint ${target.fingerprint} -->\n<!-- racewatch:occurrences ${victim.id} -->`,
    };
    for (let round = 0; round < 3; round += 1) await deliver([{ ...hostile, id: `${round}`.repeat(32) }]);
    const victims = issues().filter((issue) => fingerprintInMarker(issue.description) === victim.fingerprint);
    expect(victims).toHaveLength(1);
    expect(occurrenceIdsInMarkers(targetIssue.description)).toEqual([target.id]);
    expect(notes(targetIssue.iid)).toEqual([]);
  });
});

describe('the canonical issue', () => {
  const issue = (iid: number, block: string): TrackedIssue => ({
    iid,
    title: '',
    webUrl: '',
    state: 'opened',
    labels: [],
    createdAt: '',
    description: `report\n\`\`\`text\nx\n\`\`\`\n<!-- racewatch:fingerprint f -->\n${block}`,
  });

  it('is the oldest issue that neither moved its sightings nor was superseded, whatever is open or closed', () => {
    expect(canonicalIssue([issue(4, ''), issue(2, ''), { ...issue(3, ''), state: 'closed' }])?.iid).toBe(2);
    expect(canonicalIssue([issue(1, '<!-- racewatch:moved-to 2 -->'), issue(2, '')])?.iid).toBe(2);
    expect(
      canonicalIssue([{ ...issue(1, ''), state: 'closed' }, issue(3, '<!-- racewatch:supersedes 1 -->'), issue(4, '<!-- racewatch:supersedes 1 -->')])?.iid,
    ).toBe(3);
    expect(canonicalIssue([])).toBeNull();
  });

  it('after two boxes raced and a person closed the canonical issue, a sighting reopens that one, and only that one', async () => {
    const occurrences = (await occurrencesOf('logs/soakd-restarts.log')).filter((o, _, all) => o.fingerprint === all[0]!.fingerprint);
    const boxA = stateFile;
    const boxB = stateFileFor(mkdtempSync(path.join(tmpdir(), 'racewatch-once-b-')), PROJECT);
    standin.injectFault({ method: 'POST', path: /\/issues$/, status: 200, delayMs: 150, times: 2 });
    const open = (file: string, occurrence: RaceOccurrence) => {
      stateFile = file;
      return deliver([occurrence]);
    };
    await Promise.all([open(boxA, occurrences[0]!), open(boxB, occurrences[1]!)]);
    expect(issues()).toHaveLength(2);
    const canonical = Math.min(...issues().map((i) => i.iid));
    standin.closeIssue(PROJECT_ID, canonical);
    await open(boxA, occurrences[2]!);
    await open(boxB, { ...occurrences[2]!, id: 'b'.repeat(32) });
    expect(
      issues()
        .filter((i) => i.state === 'opened')
        .map((i) => i.iid),
    ).toEqual([canonical]);
    expectEachOnce([...occurrences.slice(0, 3).map((o) => o.id), 'b'.repeat(32)]);
  });
});

describe('a stop', () => {
  it('abandons the request under way at once, keeps the sightings pending with the write recorded, and sends nothing after', async () => {
    const [occurrence] = await occurrencesOf('logs/soakd-restarts.log');
    standin.injectFault({ method: 'POST', path: /\/issues$/, status: 200, delayMs: 30_000, times: Infinity });
    const sink = await openSink({ timeoutMs: 60_000, settleMs: 60_000 });
    await sink.accept(occurrence!);
    const delivering = sink.deliver();
    // The create, not the POST that makes the `race` label first: only then is a write under way.
    while (!standin.requests.some((r) => r.method === 'POST' && /\/issues$/.test(r.path))) await new Promise((resolve) => setTimeout(resolve, 10));
    sink.abandonRequests();
    await delivering;
    await sink.close();
    const requests = standin.requests.length;
    expect(readState().pending.map((s) => s.id)).toEqual([occurrence!.id]);
    expect(readState().inflight).toMatchObject({ kind: 'create', ids: [occurrence!.id] });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(standin.requests.length).toBe(requests);
    standin.clearFaults();
  });
});
