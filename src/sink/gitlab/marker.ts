import { issueToken } from '../../fingerprint/token.js';

/**
 * How racewatch recognises its issues and writes: hidden markers in a block at the end of each text it
 * posts (people retitle issues, so never the title). GitLab search cannot see HTML comments or 64-hex
 * words, so a short visible token is there to narrow a search; every candidate is then checked against the
 * hidden marker.
 *
 * Log text is always inside a code fence that nothing in it can close (see markdown.ts), and racewatch's
 * block follows the last fence. So markers are read only after the last line that opens or closes a fence:
 * a report quoting `<!-- racewatch:fingerprint … -->` cannot make its issue look like another bug's.
 */
const FENCE_LINE = /^`{3,}/gm;
const FINGERPRINT_MARKER = /<!-- racewatch:fingerprint (\S+) -->/;
const OCCURRENCES_MARKER = /<!-- racewatch:occurrences ([0-9a-f ]*) -->/g;
const DELIVERY_MARKER = /<!-- racewatch:delivery ([0-9a-z-]+) -->/;
const MOVED_TO_MARKER = /<!-- racewatch:moved-to (\d+) -->/;
const SUPERSEDES_MARKER = /<!-- racewatch:supersedes (\d+) -->/;

/** The part of a text racewatch wrote after any log text it quotes. */
export function ownBlock(text: string | null | undefined): string {
  const body = text ?? '';
  let start = 0;
  for (const match of body.matchAll(FENCE_LINE)) start = match.index + match[0].length;
  return body.slice(start);
}

export interface IssueMarkers {
  fingerprint: string;
  sides: string[][];
  occurrenceIds: string[];
  deliveryId: string;
  supersedes: number | null;
}

export function markerBlock(markers: IssueMarkers): string {
  const sidesJson = Buffer.from(JSON.stringify(markers.sides)).toString('base64');
  return [
    `<sub>racewatch ${issueToken(markers.fingerprint)}: keep the hidden marker below, or racewatch will no longer update this issue.</sub>`,
    '',
    `<!-- racewatch:fingerprint ${markers.fingerprint} -->`,
    `<!-- racewatch:sides ${sidesJson} -->`,
    ...(markers.supersedes === null ? [] : [`<!-- racewatch:supersedes ${markers.supersedes} -->`]),
    deliveryMarker(markers.deliveryId),
    occurrencesMarker(markers.occurrenceIds),
  ].join('\n');
}

export function occurrencesMarker(occurrenceIds: string[]): string {
  return `<!-- racewatch:occurrences ${occurrenceIds.join(' ')} -->`;
}

export function deliveryMarker(deliveryId: string): string {
  return `<!-- racewatch:delivery ${deliveryId} -->`;
}

export function movedToMarker(iid: number): string {
  return `<!-- racewatch:moved-to ${iid} -->`;
}

export function fingerprintInMarker(text: string | null | undefined): string | null {
  return FINGERPRINT_MARKER.exec(ownBlock(text))?.[1] ?? null;
}

export function occurrenceIdsInMarkers(text: string | null | undefined): string[] {
  return [...ownBlock(text).matchAll(OCCURRENCES_MARKER)].flatMap((match) => match[1]!.split(' ').filter(Boolean));
}

export function deliveryIdInMarker(text: string | null | undefined): string | null {
  return DELIVERY_MARKER.exec(ownBlock(text))?.[1] ?? null;
}

export function movedToInMarker(text: string | null | undefined): number | null {
  const found = MOVED_TO_MARKER.exec(ownBlock(text))?.[1];
  return found === undefined ? null : Number(found);
}

export function supersedesInMarker(text: string | null | undefined): number | null {
  const found = SUPERSEDES_MARKER.exec(ownBlock(text))?.[1];
  return found === undefined ? null : Number(found);
}

/** A moved issue's description: its sightings now live on the canonical issue, so its ids marker goes. */
export function withSightingsMovedTo(description: string, canonicalIid: number): string {
  const start = description.length - ownBlock(description).length;
  const block = description.slice(start).replace(OCCURRENCES_MARKER, movedToMarker(canonicalIid));
  return description.slice(0, start) + block;
}
