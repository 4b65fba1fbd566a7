import type { Writable } from 'node:stream';
import { issueToken } from '../fingerprint/token.js';
import type { RaceOccurrence } from '../pipeline/occurrence.js';
import { writeOut } from './output.js';
import type { RaceSink } from './sink.js';

const PLACES_SHOWN = 5;

interface Sighting {
  title: string;
  fingerprint: string;
  count: number;
  truncated: number;
  places: string[];
  firstFrames: string[];
}

/** Without GitLab: prints the issues racewatch would file, one per fingerprint, in order of first sighting. */
export function createDryRunSink(out: Writable): RaceSink {
  const byFingerprint = new Map<string, Sighting>();
  let occurrences = 0;
  return {
    async accept(occurrence) {
      occurrences += 1;
      const sighting = byFingerprint.get(occurrence.fingerprint) ?? newSighting(occurrence);
      byFingerprint.set(occurrence.fingerprint, sighting);
      sighting.count += 1;
      if (occurrence.truncated) sighting.truncated += 1;
      sighting.places.push(`${occurrence.source}:${occurrence.line}`);
    },
    async finish() {
      await writeOut(out, render([...byFingerprint.values()], occurrences));
    },
  };
}

function newSighting(occurrence: RaceOccurrence): Sighting {
  return {
    title: occurrence.title,
    fingerprint: occurrence.fingerprint,
    count: 0,
    truncated: 0,
    places: [],
    firstFrames: occurrence.sides.map((side) => side.join(' <- ')),
  };
}

function render(sightings: Sighting[], occurrences: number): string {
  const lines = [`Dry run (GitLab not configured): ${occurrences} race report(s), ${sightings.length} distinct race(s); nothing was filed.`];
  sightings.forEach((sighting, index) => {
    lines.push('', `${index + 1}. would file: ${sighting.title}`);
    lines.push(`   fingerprint ${sighting.fingerprint} (${issueToken(sighting.fingerprint)})`);
    lines.push(`   racing functions: ${sighting.firstFrames.join('  |  ')}`);
    const more = sighting.places.length - PLACES_SHOWN;
    const places = sighting.places.slice(0, PLACES_SHOWN).join(', ') + (more > 0 ? `, and ${more} more` : '');
    lines.push(`   seen ${sighting.count} time(s): ${places}`);
    if (sighting.truncated > 0) lines.push(`   ${sighting.truncated} of them cut off before the report's end`);
  });
  return `${lines.join('\n')}\n`;
}
