import { describe, expect, it } from 'vitest';
import type { RaceOccurrence } from '../src/pipeline/occurrence.js';
import { extractAll, loadManifest, occurrencesOf } from './support/samples.js';

const manifest = loadManifest();

/**
 * Go 1.21 and later print the type arguments of a generic function as shapes (`Store[go.shape.string,go.shape.int]`),
 * go1.19 prints `Store[...]`; the manifest keeps what Go printed, the fingerprint elides them (README, "The fingerprint").
 */
function elideTypeArguments(func: string): string {
  let out = '';
  let depth = 0;
  for (const ch of func) {
    if (ch === '[' && depth++ === 0) out += '[...]';
    else if (ch === ']' && depth > 0) depth -= 1;
    else if (depth === 0) out += ch;
  }
  return out;
}

describe('every sample log yields exactly the reports Go printed in it', () => {
  for (const entry of manifest) {
    it(`${entry.file}: ${entry.reports} report(s), ${entry.truncated} truncated`, async () => {
      const occurrences = await occurrencesOf(entry.file);
      expect(occurrences).toHaveLength(entry.reports);
      expect(occurrences.filter((o) => o.truncated)).toHaveLength(entry.truncated);
      occurrences.forEach((occurrence, index) => {
        if (occurrence.truncated) return;
        const sides = occurrence.sides.map((side) => side[0]);
        const racing = entry.racingFunctions[index]!.map(elideTypeArguments).sort();
        expect(sides, `report ${index + 1} at line ${occurrence.line}`).toEqual(racing);
        expect(occurrence.text.split('\n')[0]).toBe('WARNING: DATA RACE');
        expect(occurrence.text.endsWith('==================')).toBe(true);
        expect(occurrence.report.accesses).toHaveLength(2);
      });
    });
  }
});

describe('fingerprints across all samples', () => {
  // A bug (manifest label) may print more than one pair of racing functions: one per Go release that renamed its
  // closures, and on a sync/atomic access one per caller of the dropped caller (samples/README.md, manifest.json).
  // Reports of one bug printed with one pair are the same sighting for the key and must share it; a key must never
  // name two bugs. Whether the pairs of one bug share a key too is what samples/expected/ shows, per log.
  it('are equal for the complete reports of one bug with one pair of racing functions, and never shared by two bugs', async () => {
    const byBugAndPair = new Map<string, Set<string>>();
    const byKey = new Map<string, Set<string>>();
    const bugs = new Set<string>();
    for (const entry of manifest) {
      const occurrences = await occurrencesOf(entry.file);
      occurrences.forEach((occurrence: RaceOccurrence, index) => {
        if (occurrence.truncated) return;
        const bug = entry.bugs[index]!;
        const sighting = `${bug} ${JSON.stringify(entry.racingFunctions[index])}`;
        bugs.add(bug);
        byBugAndPair.set(sighting, (byBugAndPair.get(sighting) ?? new Set()).add(occurrence.fingerprint));
        byKey.set(occurrence.fingerprint, (byKey.get(occurrence.fingerprint) ?? new Set()).add(bug));
      });
    }
    for (const [sighting, keys] of byBugAndPair) expect([...keys], `bug and pair ${sighting} have one key`).toHaveLength(1);
    for (const [key, names] of byKey) expect([...names], `key ${key} names one bug`).toHaveLength(1);
    expect(bugs.size).toBeGreaterThanOrEqual(10);
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
