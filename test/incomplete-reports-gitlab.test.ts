import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { GoRaceReport } from '../parsers/go-race/model.js';
import type { RaceOccurrence } from '../src/pipeline/occurrence.js';
import { answerKeysInMarker, fingerprintInMarker, occurrenceIdsInMarkers } from '../src/sink/gitlab/marker.js';
import { sinkHarness } from './support/gitlab-sink.js';
import { startGitlabStandin, type GitlabStandin } from './support/gitlab-standin.js';
import { renderReport } from './support/render-report.js';
import { occurrencesInText, occurrencesOf } from './support/samples.js';
import { asGoRaceReport } from '../parsers/go-race/model.js';

/**
 * Half and frame-less reports through the GitLab sink and the stand-in. Every report is a real one from
 * samples/logs, varied as each test says (a side's stack replaced by `[failed to restore the stack]`, a racing
 * function renamed, the frames removed) and read back as a log.
 */
const PROJECT_ID = 42;
let standin: GitlabStandin;
let real: GoRaceReport;
beforeAll(async () => {
  // Read in session.(*Store).Lookup, previous write in (*Store).Put (soak.example/presence).
  real = asGoRaceReport((await occurrencesOf('logs/struct-field.log'))[0]!.report);
});
beforeEach(async () => {
  standin = await startGitlabStandin();
});
afterEach(async () => {
  await standin.close();
});

const issues = () => standin.issues(PROJECT_ID);
const notes = (iid: number) => standin.notes(PROJECT_ID, iid);
let logNumber = 0;

/** The report, varied by `vary`, printed into a log of its own (at an address of its own: a sighting of its own) and read back. */
async function varied(vary: (report: GoRaceReport) => void): Promise<RaceOccurrence> {
  const report = structuredClone(real);
  vary(report);
  logNumber += 1;
  for (const access of report.accesses) access.address = `0x00c0000b${logNumber.toString(16).padStart(4, '0')}`;
  const [occurrence] = await occurrencesInText(`logs/varied-${logNumber}.log`, `starting\n${renderReport(report)}`);
  return occurrence!;
}
const complete = () => varied(() => {});
const previousLost = () =>
  varied((report) => {
    report.accesses[1]!.stack = { frames: [], lost: true };
  });
const putRenamed = (name: string) =>
  varied((report) => {
    report.accesses[1]!.stack.frames[0]!.func = `soak.example/presence/session.(*Store).${name}`;
  });

describe('a half report ([failed to restore the stack] on one side)', () => {
  it('joins the one issue whose bug has its surviving side, in a comment saying which side was lost and suggesting GORACE=history_size', async () => {
    const harness = sinkHarness(standin);
    await harness.deliver([await complete()]);
    const half = await previousLost();
    const sink = await harness.deliver([half]);
    expect(sink.summary).toMatchObject({ created: 0, commented: 1 });
    expect(issues()).toHaveLength(1);
    const [note] = notes(issues()[0]!.iid);
    expect(occurrenceIdsInMarkers(note!.body)).toEqual([half.id]);
    expect(note!.body).toContain('The latest report is incomplete:** the stack of the previous write was lost');
    expect(note!.body).toMatch(/GORACE=history_size=N`.*default is 1, at most 7.*go\.dev\/doc\/articles\/race_detector#Options/);
    expect(answerKeysInMarker(issues()[0]!.description)).toContain(half.fingerprint);
  });

  it('gets its own issue when two bugs have its surviving side, saying so in its description', async () => {
    const harness = sinkHarness(standin);
    await harness.deliver([await complete(), await putRenamed('Reset')]);
    expect(issues()).toHaveLength(2);
    const half = await previousLost();
    await harness.deliver([half]);
    expect(issues()).toHaveLength(3);
    const own = issues()[2]!;
    expect(fingerprintInMarker(own.description)).toBe(half.fingerprint);
    expect(own.title).toBe('Data race: session.(*Store).Lookup / (other side unknown)');
    expect(own.description).toContain('**Incomplete report:** the stack of the previous write was lost');
    expect(own.description).toContain('GORACE=history_size=N');
    expect(own.description).toContain('and one the report lost');
  });

  it('filed first, it is joined by the complete report when it comes, and only by that bug', async () => {
    const harness = sinkHarness(standin);
    await harness.deliver([await previousLost()]);
    expect(issues()).toHaveLength(1);
    const first = issues()[0]!;
    const whole = await complete();
    const sink = await harness.deliver([whole]);
    expect(sink.summary).toMatchObject({ created: 0, commented: 1 });
    expect(answerKeysInMarker(issues()[0]!.description)).toEqual(expect.arrayContaining([whole.fingerprint, ...whole.identity.lineage]));
    // Another bug with the same surviving side does not join an issue a complete bug has joined.
    const other = await putRenamed('Reset');
    await harness.deliver([other]);
    expect(issues()).toHaveLength(2);
    expect(fingerprintInMarker(issues()[1]!.description)).toBe(other.fingerprint);
    // A later half report of the side goes where its own key is, however many bugs have the side now.
    await harness.deliver([await previousLost()]);
    expect(issues()).toHaveLength(2);
    expect(notes(first.iid)).toHaveLength(2);
  });

  it('the same, seen by a box without state: it finds the half issue in GitLab alone', async () => {
    await sinkHarness(standin).deliver([await previousLost()]);
    await sinkHarness(standin).deliver([await complete()]);
    expect(issues()).toHaveLength(1);
  });
});

describe('reports whose accesses name no function', () => {
  const stripped = async (log: string, withCreations: boolean) => {
    const report = structuredClone(asGoRaceReport((await occurrencesOf(log))[0]!.report));
    for (const access of report.accesses) access.stack.frames = [];
    if (!withCreations) report.creations = [];
    logNumber += 1;
    return (await occurrencesInText(`logs/stripped-${logNumber}.log`, renderReport(report)))[0]!;
  };

  it('of different bugs get different issues, each saying plainly that the report was incomplete', async () => {
    const logs = ['logs/struct-field.log', 'logs/map-race.log', 'logs/closures.log'];
    const occurrences = [...(await Promise.all(logs.map((log) => stripped(log, true)))), ...(await Promise.all(logs.map((log) => stripped(log, false))))];
    await sinkHarness(standin).deliver(occurrences);
    expect(issues()).toHaveLength(6);
    for (const issue of issues()) {
      expect(issue.title).toMatch(/^Data race \(incomplete report/);
      expect(issue.description).toContain('**Incomplete report:** no frame of the read is in the log');
      expect(issue.description).toContain('Neither access names a function');
      expect(issue.description).toContain('- **Racing functions:** not in the report');
    }
  });

  it('one filed by racewatch 0.1 under the key all such reports shared is not filed again, and its issue is not joined', async () => {
    const occurrence = await stripped('logs/struct-field.log', true);
    const sharedKey = occurrence.identity.formerShared[0]!;
    const oldIssue = (ids: string[]) =>
      `Race\n\`\`\`text\nx\n\`\`\`\n<sub>racewatch race-x: keep</sub>\n\n<!-- racewatch:fingerprint ${sharedKey} -->\n<!-- racewatch:occurrences ${ids.join(' ')} -->`;
    const token = `race-${sharedKey.slice('gorace-v1:'.length, 'gorace-v1:'.length + 16)}`;
    const issue = { title: 'Data race: (access not printed) / (access not printed)', state: 'opened' as const, labels: ['race'], author: 'bot', notes: [] };
    const at = { createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z', closedAt: null, closedBy: null };
    standin.loadProject(PROJECT_ID, { labels: [], issues: [{ ...issue, ...at, iid: 1, description: `${token}\n${oldIssue([occurrence.id])}` }] });
    const sink = await sinkHarness(standin).deliver([occurrence, await stripped('logs/map-race.log', true)]);
    expect(sink.summary).toMatchObject({ created: 1, commented: 0 });
    expect(issues()).toHaveLength(2);
    expect(answerKeysInMarker(issues()[0]!.description)).toEqual([sharedKey]);
  });
});
