import type { RaceOccurrence } from '../../pipeline/occurrence.js';
import type { Sighting } from '../../state/sink-state.js';

const TEXT_CHARS_KEPT = 60_000;

/** What the sink keeps of an occurrence until GitLab has acknowledged it. */
export function toSighting(occurrence: RaceOccurrence, host: string, seenAt: Date): Sighting {
  const { kind, lineage, sideKeys, formerShared, unknownSides } = occurrence.identity;
  return {
    id: occurrence.id,
    format: occurrence.report.format,
    fingerprint: occurrence.fingerprint,
    kind,
    keys: [occurrence.fingerprint, ...lineage],
    sideKeys,
    formerShared,
    unknownSides,
    title: occurrence.title,
    sides: occurrence.sides,
    host,
    source: occurrence.source,
    line: occurrence.line,
    seenAt: seenAt.toISOString(),
    truncated: occurrence.truncated,
    text: occurrence.text.slice(0, TEXT_CHARS_KEPT),
    racingFrames: occurrence.facts.racingFrames,
    creationSites: occurrence.facts.creationSites,
  };
}
