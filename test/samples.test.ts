import { describe, expect, it } from 'vitest';
import type { RaceOccurrence } from '../src/pipeline/occurrence.js';
import { extractAll, loadManifest, occurrencesOf } from './support/samples.js';

const manifest = loadManifest();

describe('every sample log yields exactly the reports Go printed in it', () => {
  for (const entry of manifest) {
    it(`${entry.file}: ${entry.reports} report(s), ${entry.truncated} truncated`, async () => {
      const occurrences = await occurrencesOf(entry.file);
      expect(occurrences).toHaveLength(entry.reports);
      expect(occurrences.filter((o) => o.truncated)).toHaveLength(entry.truncated);
      occurrences.forEach((occurrence, index) => {
        if (occurrence.truncated) return;
        const sides = occurrence.sides.map((side) => side[0]);
        expect(sides, `report ${index + 1} at line ${occurrence.line}`).toEqual([...entry.racingFunctions[index]!].sort());
        expect(occurrence.text.split('\n')[0]).toBe('WARNING: DATA RACE');
        expect(occurrence.text.endsWith('==================')).toBe(true);
        expect(occurrence.report.accesses).toHaveLength(2);
      });
    });
  }
});

describe('fingerprints across all samples', () => {
  it('are equal exactly when the manifest says two complete reports are the same bug', async () => {
    const byBug = new Map<string, Set<string>>();
    const byKey = new Map<string, Set<string>>();
    for (const entry of manifest) {
      const occurrences = await occurrencesOf(entry.file);
      occurrences.forEach((occurrence: RaceOccurrence, index) => {
        if (occurrence.truncated) return;
        const bug = entry.bugs[index]!;
        byBug.set(bug, (byBug.get(bug) ?? new Set()).add(occurrence.fingerprint));
        byKey.set(occurrence.fingerprint, (byKey.get(occurrence.fingerprint) ?? new Set()).add(bug));
      });
    }
    for (const [bug, keys] of byBug) expect([...keys], `bug ${bug} has one key`).toHaveLength(1);
    for (const [key, bugs] of byKey) expect([...bugs], `key ${key} names one bug`).toHaveLength(1);
    expect(byBug.size).toBeGreaterThanOrEqual(10);
  });

  it('give every report of one fingerprint the same title, naming both racing functions', async () => {
    const titles = new Map<string, Set<string>>();
    for (const entry of manifest) {
      for (const occurrence of await occurrencesOf(entry.file)) {
        titles.set(occurrence.fingerprint, (titles.get(occurrence.fingerprint) ?? new Set()).add(occurrence.title));
        expect(occurrence.title.length).toBeLessThanOrEqual(255);
        expect(occurrence.title).toMatch(/^Data race: \S.* \/ \S.*$/);
      }
    }
    for (const [key, set] of titles) expect([...set], key).toHaveLength(1);
  });
});

describe('occurrence ids', () => {
  it('are the same when the same log is scanned twice, and differ between occurrences', async () => {
    const all: string[] = [];
    for (const entry of manifest.filter((e) => e.derivedFrom === null)) {
      const first = (await occurrencesOf(entry.file)).map((o) => o.id);
      const second = (await occurrencesOf(entry.file)).map((o) => o.id);
      expect(second).toEqual(first);
      all.push(...first);
    }
    expect(new Set(all).size).toBe(all.length);
  });
});

describe('nothing is dropped silently', () => {
  it('a marker with no access after it is reported as abandoned with its line', async () => {
    const entries = manifest.filter((e) => /orphan-marker/.test(e.file));
    expect(entries.length).toBeGreaterThan(0);
    for (const entry of entries) {
      const abandoned = (await extractAll(entry.file)).filter((event) => event.type === 'abandoned');
      expect(abandoned.length, entry.file).toBeGreaterThan(0);
      for (const event of abandoned) {
        if (event.type === 'abandoned') expect(event.abandoned.line).toBeGreaterThan(0);
      }
    }
  });
});
