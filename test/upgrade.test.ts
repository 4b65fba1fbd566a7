import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RaceOccurrence } from '../src/pipeline/occurrence.js';
import { answerKeysInMarker, fingerprintInMarker, occurrenceIdsInMarkers } from '../src/sink/gitlab/marker.js';
import { STATE_SCHEMA_VERSION } from '../src/state/sink-state.js';
import { racewatchAsync } from './support/cli.js';
import { audit } from './support/delivery-audit.js';
import { startGitlabStandin, type GitlabStandin } from './support/gitlab-standin.js';
import { loadReleaseFixture, RELEASE_FIXTURE_DIR, type ReleaseFixture } from './support/release-fixture.js';
import { occurrencesOf } from './support/samples.js';

/**
 * Upgrading from racewatch 0.1.0: GitLab holds what that release filed (test/fixtures/release-0.1.0/, written by
 * the release itself), and the current build scans the same logs, on a box that kept the release's state
 * directory and on a fresh box with GitLab alone. Nothing may be filed again: no new issue, no sighting twice,
 * the sightings the release left pending on the issue their old key names; and every old issue learns the new
 * key of its bug.
 */
let fixture: ReleaseFixture;
let occurrences: RaceOccurrence[];
let standin: GitlabStandin;

beforeAll(async () => {
  fixture = loadReleaseFixture();
  occurrences = (await Promise.all(fixture.logs.map((log) => occurrencesOf(path.join(RELEASE_FIXTURE_DIR, log))))).flat();
});

beforeEach(async () => {
  standin = await startGitlabStandin({ projects: [fixture.project] });
  standin.loadProject(fixture.project.id, fixture.gitlab);
});

afterEach(async () => {
  await standin.close();
});

function stateDir(withReleaseState: boolean): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'racewatch-upgrade-'));
  if (withReleaseState) writeFileSync(path.join(dir, fixture.stateFileName), fixture.stateText);
  return dir;
}

/** The current build's `racewatch scan` over every log the release read, from the fixture directory as it ran. */
async function scanAll(state: string) {
  const env = {
    GITLAB_URL: standin.url,
    GITLAB_TOKEN: standin.token,
    GITLAB_PROJECT: fixture.project.path,
    RACEWATCH_STATE_DIR: state,
    RACEWATCH_HOST: 'soak-upgraded',
    RACEWATCH_GITLAB_SETTLE: '1s',
  };
  return racewatchAsync(['scan', ...fixture.logs], env, RELEASE_FIXTURE_DIR);
}

const writes = () => standin.requests.filter((request) => request.method !== 'GET');
const pendingInReleaseState = () => (JSON.parse(fixture.stateText) as { pending: Array<{ id: string; fingerprint: string }> }).pending;

function expectNothingFiledTwiceAndEveryOldIssueRekeyed(): void {
  const issues = standin.issues(fixture.project.id);
  expect(issues.map((issue) => [issue.iid, issue.title, issue.labels])).toEqual(fixture.gitlab.issues.map((issue) => [issue.iid, issue.title, issue.labels]));
  const counted = audit(standin, new Set(occurrences.map((o) => o.id)), fixture.project.id);
  expect({ lost: counted.lost, twice: counted.twice, unexpected: counted.unexpected }).toEqual({ lost: [], twice: [], unexpected: [] });

  for (const issue of issues) {
    const oldKey = fingerprintInMarker(issue.description)!;
    const ofThisBug = occurrences.filter((o) => o.identity.lineage.includes(oldKey));
    expect(ofThisBug.length, `#${issue.iid}`).toBeGreaterThan(0);
    const newKeys = [...new Set(ofThisBug.map((o) => o.fingerprint))];
    expect(answerKeysInMarker(issue.description), `#${issue.iid} answers to its bug's new key`).toEqual(expect.arrayContaining([oldKey, ...newKeys]));
    // The rest of the issue is as the release wrote it.
    const before = fixture.gitlab.issues.find((old) => old.iid === issue.iid)!;
    expect(occurrenceIdsInMarkers(issue.description)).toEqual(occurrenceIdsInMarkers(before.description));
    expect(issue.description!.split('```').slice(0, -1)).toEqual(before.description!.split('```').slice(0, -1));
  }

  // The sightings the release left pending went to the issue their old key names, each once.
  for (const sighting of pendingInReleaseState()) {
    const holders = issues.filter((issue) =>
      standin.notes(fixture.project.id, issue.iid).some((note) => occurrenceIdsInMarkers(note.body).includes(sighting.id)),
    );
    expect(
      holders.map((issue) => fingerprintInMarker(issue.description)),
      sighting.id,
    ).toEqual([sighting.fingerprint]);
  }
}

describe('upgrading from racewatch 0.1.0 (issues and state that release wrote)', () => {
  it('the fixture is what the test needs: issues of every bug, comments, sightings pending with a comment under way', () => {
    expect(fixture.gitlab.issues.length).toBe(new Set(occurrences.map((o) => o.identity.lineage[0])).size);
    expect(pendingInReleaseState().length).toBeGreaterThan(10);
    expect(JSON.parse(fixture.stateText)).toMatchObject({ schema: 2, inflight: { kind: 'note' } });
  });

  it('a box that kept its state: no new issue, no sighting twice, pending sightings on their issues, every old issue rekeyed', async () => {
    const state = stateDir(true);
    const result = await scanAll(state);
    expect(result.stderr).not.toMatch(/"level":50/);
    expect(result.status, result.stderr).toBe(0);
    expectNothingFiledTwiceAndEveryOldIssueRekeyed();
    const upgraded = JSON.parse(readFileSync(path.join(state, fixture.stateFileName), 'utf8'));
    expect(upgraded).toMatchObject({ schema: STATE_SCHEMA_VERSION, pending: [], inflight: null, unlinked: [] });
    for (const o of occurrences) expect(upgraded.issues[o.fingerprint], o.fingerprint).toBeDefined();
  });

  it('a fresh box with GitLab alone: the same', async () => {
    const result = await scanAll(stateDir(false));
    expect(result.status, result.stderr).toBe(0);
    expectNothingFiledTwiceAndEveryOldIssueRekeyed();
  });

  it('after the upgrade, scanning again writes nothing, on the upgraded box and on a fresh one', async () => {
    const state = stateDir(true);
    expect((await scanAll(state)).status).toBe(0);
    const before = writes().length;
    expect((await scanAll(state)).status).toBe(0);
    expect((await scanAll(stateDir(false))).status).toBe(0);
    expect(writes().slice(before)).toEqual([]);
    expectNothingFiledTwiceAndEveryOldIssueRekeyed();
  });
});
