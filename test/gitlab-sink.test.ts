import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fingerprintInMarker, occurrenceIdsInMarkers } from '../src/sink/gitlab/marker.js';
import { sinkHarness } from './support/gitlab-sink.js';
import { startGitlabStandin, type GitlabStandin } from './support/gitlab-standin.js';
import { occurrencesOf } from './support/samples.js';

const PROJECT_ID = 42;
let standin: GitlabStandin;
beforeEach(async () => {
  standin = await startGitlabStandin();
});
afterEach(async () => {
  await standin.close();
});

const issues = () => standin.issues(PROJECT_ID);
const notes = (iid: number) => standin.notes(PROJECT_ID, iid);
const distinctFingerprints = (occurrences: { fingerprint: string }[]) => new Set(occurrences.map((o) => o.fingerprint)).size;
const at = (iso: string) => () => new Date(iso);

describe('first sighting', () => {
  it('files one issue per fingerprint, labelled race, titled with the racing functions, the fingerprint only in the description', async () => {
    const occurrences = await occurrencesOf('logs/soakd-restarts.log');
    const sink = await sinkHarness(standin).deliver(occurrences);
    expect(issues()).toHaveLength(distinctFingerprints(occurrences));
    expect(sink.summary.created).toBe(issues().length);
    for (const issue of issues()) {
      const occurrence = occurrences.find((o) => o.fingerprint === fingerprintInMarker(issue.description))!;
      expect(issue.title).toBe(occurrence.title);
      expect(issue.title).not.toContain('gorace-v');
      expect(issue.labels).toContain('race');
      expect(issue.state).toBe('opened');
      expect(issue.description).toContain(occurrence.text.split('\n')[1]);
      expect(issue.description).toMatch(/\*\*First seen:\*\* \S+ on `soak-3`, `logs\/soakd-restarts\.log` line \d+/);
    }
    expect(standin.labels(PROJECT_ID).map((l) => l.name)).toContain('race');
  });

  it('records every occurrence of the run in the new issue, none as a comment', async () => {
    const occurrences = await occurrencesOf('logs/soakd-restarts.log');
    await sinkHarness(standin).deliver(occurrences);
    const recorded = issues().flatMap((issue) => occurrenceIdsInMarkers(issue.description));
    expect(recorded.sort()).toEqual(occurrences.map((o) => o.id).sort());
    for (const issue of issues()) expect(notes(issue.iid)).toHaveLength(0);
  });
});

describe('later sightings', () => {
  it('scanning the same log again creates and comments nothing', async () => {
    const occurrences = await occurrencesOf('logs/soakd-build-a1.log');
    const harness = sinkHarness(standin);
    await harness.deliver(occurrences);
    const requestsBefore = standin.requests.length;
    const again = await harness.deliver(occurrences);
    expect(again.summary).toMatchObject({ alreadyDelivered: occurrences.length, created: 0, commented: 0 });
    expect(standin.requests.slice(requestsBefore).filter((r) => r.method !== 'GET')).toEqual([]);
  });

  it('new sightings of a filed race become one comment per issue with count, hosts and the latest report', async () => {
    const harness = sinkHarness(standin);
    await harness.deliver(await occurrencesOf('logs/soakd-build-a1.log'));
    const later = await occurrencesOf('logs/soakd-build-b7-trimpath.log');
    const sink = await harness.deliver(later, { host: 'soak-7' });
    expect(issues()).toHaveLength(distinctFingerprints(later));
    expect(sink.summary.commented).toBe(distinctFingerprints(later));
    for (const issue of issues()) {
      const ids = later.filter((o) => o.fingerprint === fingerprintInMarker(issue.description)).map((o) => o.id);
      const [note] = notes(issue.iid);
      expect(notes(issue.iid)).toHaveLength(1);
      expect(note!.body).toContain(`Seen again: **${ids.length}** time(s)`);
      expect(note!.body).toContain('`soak-7`');
      expect(note!.body).toContain('<details><summary>Latest report');
      expect(occurrenceIdsInMarkers(note!.body).sort()).toEqual(ids.sort());
    }
  });

  it('within the comment window sightings wait, then all of them go into the next comment, none twice', async () => {
    const harness = sinkHarness(standin);
    const window = { commentWindowMs: 3_600_000 };
    await harness.deliver(await occurrencesOf('logs/soakd-build-a1.log'), { ...window, now: at('2026-11-23T06:00:00Z') });
    const second = await occurrencesOf('logs/soakd-build-b7-trimpath.log');
    const held = await harness.deliver(second, { ...window, now: at('2026-11-23T06:20:00Z') });
    expect(held.summary.heldForWindow).toBe(second.length);
    expect(issues().every((issue) => notes(issue.iid).length === 0)).toBe(true);

    const third = await occurrencesOf('logs/gorace-log-path/race.1');
    const flushed = await harness.deliver(third, { ...window, now: at('2026-11-23T07:05:00Z') });
    expect(flushed.summary.pending).toBe(0);
    for (const issue of issues()) {
      const fingerprint = fingerprintInMarker(issue.description);
      const expected = [...second, ...third].filter((o) => o.fingerprint === fingerprint).map((o) => o.id);
      expect(notes(issue.iid)).toHaveLength(1);
      expect(occurrenceIdsInMarkers(notes(issue.iid)[0]!.body).sort()).toEqual(expected.sort());
    }
  });
});

describe('a race that comes back after its issue was closed', () => {
  const closeAll = () => {
    for (const issue of issues()) standin.closeIssue(PROJECT_ID, issue.iid);
  };

  it('reopens the issue with a comment saying it came back (default policy)', async () => {
    const harness = sinkHarness(standin);
    await harness.deliver(await occurrencesOf('logs/soakd-build-a1.log'));
    closeAll();
    const sink = await harness.deliver(await occurrencesOf('logs/soakd-build-b7-trimpath.log'));
    expect(sink.summary.reopened).toBe(issues().length);
    for (const issue of issues()) {
      expect(issue.state).toBe('opened');
      expect(notes(issue.iid).at(-1)!.body).toMatch(/^This race came back after the issue was closed/);
    }
  });

  it('with the comment policy, comments and leaves the issue closed', async () => {
    const harness = sinkHarness(standin);
    await harness.deliver(await occurrencesOf('logs/soakd-build-a1.log'));
    closeAll();
    await harness.deliver(await occurrencesOf('logs/soakd-build-b7-trimpath.log'), { reopenPolicy: 'comment' });
    for (const issue of issues()) {
      expect(issue.state).toBe('closed');
      expect(notes(issue.iid).at(-1)!.body).toMatch(/^This race came back/);
    }
  });

  it('with the new-issue policy, files a new issue that links the closed one, and keeps using it', async () => {
    const harness = sinkHarness(standin);
    const first = await occurrencesOf('logs/soakd-build-a1.log');
    await harness.deliver(first);
    closeAll();
    const closed = issues().map((issue) => issue.iid);
    await harness.deliver(await occurrencesOf('logs/soakd-build-b7-trimpath.log'), { reopenPolicy: 'new-issue' });
    const fresh = issues().filter((issue) => !closed.includes(issue.iid));
    expect(fresh).toHaveLength(closed.length);
    for (const issue of fresh) expect(issue.description).toMatch(/^This race was seen again after #\d+ was closed\./);
    await harness.deliver(await occurrencesOf('logs/gorace-log-path/race.1'), { reopenPolicy: 'new-issue' });
    expect(issues()).toHaveLength(closed.length * 2);
    for (const issue of fresh) expect(notes(issue.iid)).toHaveLength(1);
  });

  it('never reopens an issue carrying the ignore label, and counts its sightings silently', async () => {
    const harness = sinkHarness(standin);
    await harness.deliver(await occurrencesOf('logs/soakd-build-a1.log'));
    for (const issue of issues()) {
      standin.editIssue(PROJECT_ID, issue.iid, { labels: [...issue.labels, 'race::ignore'] });
      standin.closeIssue(PROJECT_ID, issue.iid);
    }
    const later = await occurrencesOf('logs/soakd-build-b7-trimpath.log');
    const sink = await harness.deliver(later);
    expect(sink.summary.ignored).toBe(later.length);
    for (const issue of issues()) {
      expect(issue.state).toBe('closed');
      expect(notes(issue.iid)).toHaveLength(0);
    }
  });
});

describe('finding the issue of a fingerprint', () => {
  it('a box with no state finds the existing issue through its marker instead of filing a duplicate', async () => {
    await sinkHarness(standin).deliver(await occurrencesOf('logs/soakd-build-a1.log'));
    const count = issues().length;
    const otherBox = await sinkHarness(standin).deliver(await occurrencesOf('logs/soakd-build-b7-trimpath.log'));
    expect(issues()).toHaveLength(count);
    expect(otherBox.summary.commented).toBe(count);
  });

  it('an issue whose marker a person removed is left alone and a new one is filed', async () => {
    const harness = sinkHarness(standin);
    const occurrences = await occurrencesOf('logs/struct-field.log');
    await harness.deliver(occurrences);
    const [original] = issues();
    standin.editIssue(PROJECT_ID, original!.iid, { description: 'Investigating by hand.' });
    await harness.deliver(await occurrencesOf('logs/struct-field-truncated.derived.log'));
    expect(notes(original!.iid)).toHaveLength(0);
    expect(issues()).toHaveLength(2);
  });

  it('two boxes filing the same new race at once end with one open issue; the other closes as its duplicate', async () => {
    const occurrencesA = await occurrencesOf('logs/soakd-build-a1.log');
    const occurrencesB = await occurrencesOf('logs/soakd-build-b7-trimpath.log');
    const boxA = sinkHarness(standin);
    const boxB = sinkHarness(standin);
    // Slow creates, so that both boxes have looked (and found nothing) before either issue exists.
    standin.injectFault({ method: 'POST', path: /\/issues$/, status: 200, delayMs: 100, times: 2 * distinctFingerprints(occurrencesA) });
    await Promise.all([boxA.deliver(occurrencesA, { host: 'soak-a' }), boxB.deliver(occurrencesB, { host: 'soak-b' })]);
    const open = issues().filter((issue) => issue.state === 'opened');
    expect(open).toHaveLength(distinctFingerprints(occurrencesA));
    const closed = issues().filter((issue) => issue.state === 'closed');
    expect(closed).toHaveLength(distinctFingerprints(occurrencesA));
    for (const duplicate of closed) {
      const canonical = open.find((issue) => fingerprintInMarker(issue.description) === fingerprintInMarker(duplicate.description))!;
      expect(duplicate.description).toContain(`Duplicate of #${canonical.iid}`);
      expect(occurrenceIdsInMarkers(duplicate.description)).toEqual([]);
      expect(canonical.iid).toBeLessThan(duplicate.iid);
    }
    // Every sighting of both boxes is recorded on the open issues.
    const recorded = open.flatMap((issue) => [
      ...occurrenceIdsInMarkers(issue.description),
      ...notes(issue.iid).flatMap((note) => occurrenceIdsInMarkers(note.body)),
    ]);
    expect(new Set(recorded)).toEqual(new Set([...occurrencesA, ...occurrencesB].map((o) => o.id)));
    expect(recorded).toHaveLength(new Set(recorded).size);
  });
});

describe('the cap on new issues per run', () => {
  it('files at most the cap, keeps the rest pending and files them next run', async () => {
    const occurrences = [...(await occurrencesOf('logs/buffer-race.log')), ...(await occurrencesOf('logs/soakd-build-a1.log'))];
    const total = distinctFingerprints(occurrences);
    const harness = sinkHarness(standin);
    const first = await harness.deliver(occurrences, { maxNewIssues: 2 });
    expect(issues()).toHaveLength(2);
    expect(first.summary.overCap).toBeGreaterThan(0);
    expect(first.summary.pending).toBe(first.summary.overCap);
    await harness.deliver([], { maxNewIssues: 2 });
    await harness.deliver([], { maxNewIssues: 2 });
    expect(issues()).toHaveLength(total);
    const recorded = issues().flatMap((issue) => occurrenceIdsInMarkers(issue.description));
    expect(recorded.sort()).toEqual(occurrences.map((o) => o.id).sort());
  });
});
