import type { Frame } from '../../../parsers/report.js';
import { normalizeFunctionName } from '../../fingerprint/go-names.js';
import type { RaceOccurrence } from '../../pipeline/occurrence.js';
import type { Sighting } from '../../state/sink-state.js';

const TEXT_CHARS_KEPT = 60_000;

/** What the sink keeps of an occurrence until GitLab has acknowledged it. */
export function toSighting(occurrence: RaceOccurrence, host: string, seenAt: Date): Sighting {
  const frames = occurrence.report.accesses.flatMap((access) => access.stack.frames);
  const { kind, lineage, sideKeys, formerShared, unknownSides } = occurrence.identity;
  return {
    id: occurrence.id,
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
    // A report without frames is keyed by what it still has (creation sites), not by racing functions.
    racingFrames: kind === 'incomplete' ? [] : occurrence.sides.map((side) => describeFrame(side[0]!, frames)),
    creationSites: occurrence.report.creations.flatMap((creation) => {
      const site = creation.stack.frames[0];
      return site ? [`${site.func} (${baseLocation(site)})`] : [];
    }),
  };
}

function describeFrame(name: string, frames: Frame[]): string {
  const frame = frames.find((candidate) => normalizeFunctionName(candidate.func) === name);
  return frame ? `${name} (${baseLocation(frame)})` : name;
}

function baseLocation(frame: Frame): string {
  return `${frame.file.slice(frame.file.lastIndexOf('/') + 1)}:${frame.line}`;
}
