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
const KEYS_MARKER = /<!-- racewatch:keys ([^>]*) -->/;
const SIDES_MARKER = /<!-- racewatch:sides ([A-Za-z0-9+/=]*) -->/;
const SIDE_KEYS_MARKER = /<!-- racewatch:side-keys ([^>]*) -->/;
const TOKEN_LINE = /^<sub>racewatch race-.*<\/sub>$/;
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
  /** The key the issue was filed under; it never changes. */
  fingerprint: string;
  /** Every key the issue answers to: its fingerprint, the keys earlier releases gave the bug, keys it took on since. */
  keys: string[];
  /** The keys of the sides of the complete bugs it answers to: a half report of one of those sides may join it. */
  sideKeys: string[];
  sides: string[][];
  occurrenceIds: string[];
  deliveryId: string;
  supersedes: number | null;
}

export function markerBlock(markers: IssueMarkers): string {
  const sidesJson = Buffer.from(JSON.stringify(markers.sides)).toString('base64');
  const keys = distinct([markers.fingerprint, ...markers.keys]);
  return [
    tokenLine(keys, markers.sideKeys),
    '',
    `<!-- racewatch:fingerprint ${markers.fingerprint} -->`,
    ...keyMarkers(keys, markers.sideKeys),
    `<!-- racewatch:sides ${sidesJson} -->`,
    ...(markers.supersedes === null ? [] : [`<!-- racewatch:supersedes ${markers.supersedes} -->`]),
    deliveryMarker(markers.deliveryId),
    occurrencesMarker(markers.occurrenceIds),
  ].join('\n');
}

/**
 * GitLab's search sees neither HTML comments nor 64-hex words, so every key the issue answers to, and every side
 * key, is also a visible 16-hex token on this line: a lookup by any of them finds the issue.
 */
function tokenLine(keys: string[], sideKeys: string[]): string {
  const [first, ...others] = keys.map(issueToken);
  const also = others.length > 0 ? ` (also ${others.join(' ')})` : '';
  const sides = sideKeys.length > 0 ? ` (sides ${sideKeys.map(issueToken).join(' ')})` : '';
  return `<sub>racewatch ${first}${also}${sides}: keep the hidden marker below, or racewatch will no longer update this issue.</sub>`;
}

function keyMarkers(keys: string[], sideKeys: string[]): string[] {
  return [`<!-- racewatch:keys ${keys.join(' ')} -->`, ...(sideKeys.length > 0 ? [`<!-- racewatch:side-keys ${sideKeys.join(' ')} -->`] : [])];
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

/** Every key the issue answers to (an issue racewatch 0.1 filed has only its fingerprint). */
export function answerKeysInMarker(text: string | null | undefined): string[] {
  const block = ownBlock(text);
  const fingerprint = FINGERPRINT_MARKER.exec(block)?.[1];
  if (fingerprint === undefined) return [];
  return distinct([fingerprint, ...wordsOf(KEYS_MARKER.exec(block)?.[1])]);
}

/** The sides the issue was filed with (normalized function names); [] when unreadable. */
export function sidesInMarker(text: string | null | undefined): string[][] {
  const encoded = SIDES_MARKER.exec(ownBlock(text))?.[1];
  try {
    const sides: unknown = JSON.parse(Buffer.from(encoded ?? '', 'base64').toString('utf8'));
    const valid = Array.isArray(sides) && sides.every((side) => Array.isArray(side) && side.length > 0 && side.every((name) => typeof name === 'string'));
    return valid ? (sides as string[][]) : [];
  } catch {
    return [];
  }
}

export function sideKeysInMarker(text: string | null | undefined): string[] {
  return wordsOf(SIDE_KEYS_MARKER.exec(ownBlock(text))?.[1]);
}

/**
 * The description with `keys` and `sideKeys` added to racewatch's block (its token line and markers), the rest
 * left as it was; null when the issue answers to all of them already.
 */
export function withKeysAdded(description: string, keys: string[], sideKeys: string[]): string | null {
  const start = description.length - ownBlock(description).length;
  const block = description.slice(start);
  if (!FINGERPRINT_MARKER.test(block)) return null;
  const oldKeys = answerKeysInMarker(description);
  const oldSideKeys = sideKeysInMarker(description);
  const allKeys = distinct([...oldKeys, ...keys]);
  const allSideKeys = distinct([...oldSideKeys, ...sideKeys]);
  if (allKeys.length === oldKeys.length && allSideKeys.length === oldSideKeys.length) return null;
  const rewritten = block
    .split('\n')
    .filter((line) => !KEYS_MARKER.test(line) && !SIDE_KEYS_MARKER.test(line))
    .flatMap((line) => {
      if (TOKEN_LINE.test(line)) return [tokenLine(allKeys, allSideKeys)];
      return FINGERPRINT_MARKER.test(line) ? [line, ...keyMarkers(allKeys, allSideKeys)] : [line];
    })
    .join('\n');
  return description.slice(0, start) + rewritten;
}

function wordsOf(text: string | undefined): string[] {
  return (text ?? '').split(' ').filter(Boolean);
}

function distinct(values: string[]): string[] {
  return [...new Set(values)];
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
