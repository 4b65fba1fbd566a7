import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_FINGERPRINT_OPTIONS } from '../src/fingerprint/fingerprint.js';
import { issueToken } from '../src/fingerprint/token.js';
import { fingerprintInMarker } from '../src/sink/gitlab/marker.js';
import { sinkHarness } from './support/gitlab-sink.js';
import { startGitlabStandin, type GitlabStandin } from './support/gitlab-standin.js';
import { DEFAULT_EXTRACT, occurrencesOf } from './support/samples.js';

/**
 * Titles are unique per bug within a project and never change for a bug. The real sample logs have two bugs that
 * print alike: soak.example/presence/session.(*Store).Lookup / Put (struct-field.log) and
 * soak.example/svc/session.(*Store).Lookup / Put (soakd-build-a1.log).
 */
const PROJECT_ID = 42;
let standin: GitlabStandin;
beforeEach(async () => {
  standin = await startGitlabStandin();
});
afterEach(async () => {
  await standin.close();
});
const issues = () => standin.issues(PROJECT_ID);
const titleOf = (fingerprint: string) => issues().find((issue) => fingerprintInMarker(issue.description) === fingerprint)?.title;

describe('issue titles', () => {
  it('two bugs whose functions print alike get titles that differ by the shortest package path that tells them apart', async () => {
    const [presence] = await occurrencesOf('logs/struct-field.log');
    const svc = (await occurrencesOf('logs/soakd-build-a1.log')).find((o) => o.title === presence!.title)!;
    expect(svc.fingerprint).not.toBe(presence!.fingerprint);
    await sinkHarness(standin).deliver([presence!]);
    await sinkHarness(standin).deliver([svc]);
    expect(titleOf(presence!.fingerprint)).toBe('Data race: session.(*Store).Lookup / session.(*Store).Put');
    expect(titleOf(svc.fingerprint)).toBe('Data race: svc/session.(*Store).Lookup / svc/session.(*Store).Put');
  });

  it('a title, once given, stays: later sightings, other boxes and the other bug filed first change nothing', async () => {
    const [presence] = await occurrencesOf('logs/struct-field.log');
    const svcLogs = ['logs/soakd-build-a1.log', 'logs/soakd-build-b7-trimpath.log', 'logs/soakd-restarts.log'];
    const svc = (await Promise.all(svcLogs.map((log) => occurrencesOf(log)))).flat();
    const harness = sinkHarness(standin);
    await harness.deliver(svc.slice(0, 3));
    const titles = () => issues().map((issue) => [issue.iid, issue.title]);
    const before = titles();
    await harness.deliver(svc);
    await sinkHarness(standin).deliver([...svc, presence!]);
    expect(titles().slice(0, before.length)).toEqual(before);
    // The bug filed later is the one whose title grows.
    expect(titleOf(presence!.fingerprint)).toBe('Data race: presence/session.(*Store).Lookup / presence/session.(*Store).Put');
    expect(new Set(issues().map((issue) => issue.title)).size).toBe(issues().length);
  });

  it('two bugs of the very same functions (a deeper --fingerprint-depth) are told apart by their tokens', async () => {
    const deep = { ...DEFAULT_EXTRACT, fingerprint: { ...DEFAULT_FINGERPRINT_OPTIONS, depth: 2 } };
    const [viaApi, viaBatch] = await occurrencesOf('logs/two-callers.log', deep);
    expect(viaApi!.title).toBe(viaBatch!.title);
    await sinkHarness(standin).deliver([viaApi!, viaBatch!]);
    expect(titleOf(viaApi!.fingerprint)).toBe(viaApi!.title);
    expect(titleOf(viaBatch!.fingerprint)).toBe(`${viaBatch!.title} (${issueToken(viaBatch!.fingerprint)})`);
  });
});
