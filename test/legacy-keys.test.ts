import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_FINGERPRINT_OPTIONS } from '../src/fingerprint/fingerprint.js';
import { goraceV1 } from '../parsers/go-race/legacy/gorace-v1.js';
import { keysTheReleaseGave, loadReleaseFixture, RELEASE_FIXTURE_DIR } from './support/release-fixture.js';
import { occurrencesOf } from './support/samples.js';
import { asGoRaceReport } from '../parsers/go-race/model.js';

/**
 * The frozen `gorace-v1` rule must give every report the key racewatch 0.1.0 itself gave it: those keys are in
 * the issues, comments and state that release wrote (test/fixtures/release-0.1.0/). Were the rule to drift by
 * one character of its hashing, every report would miss its old issue after an upgrade.
 */
describe('gorace-v1, the key of racewatch 0.1, frozen', () => {
  const fixture = loadReleaseFixture();
  const released = keysTheReleaseGave(fixture);

  it('the fixture holds what the release filed: issues, comments and pending sightings', () => {
    expect(fixture.gitlab.issues.length).toBeGreaterThan(10);
    expect(fixture.gitlab.issues.some((issue) => issue.notes.length > 0)).toBe(true);
    expect(new Set(released.values()).size).toBe(fixture.gitlab.issues.length);
  });

  it('gives every report of every log the release read the very key the release filed it under', async () => {
    const compared = new Set<string>();
    for (const log of fixture.logs) {
      for (const occurrence of await occurrencesOf(path.join(RELEASE_FIXTURE_DIR, log))) {
        const expected = released.get(occurrence.id);
        expect(expected, `${log}:${occurrence.line} was never filed by the release`).toBeDefined();
        expect(goraceV1(asGoRaceReport(occurrence.report).accesses, DEFAULT_FINGERPRINT_OPTIONS).key, `${log}:${occurrence.line}`).toBe(expected);
        compared.add(occurrence.id);
      }
    }
    // Byte-identical reports (the two GORACE log_path files) are one occurrence, filed once.
    expect(compared.size).toBe(released.size);
  });
});
