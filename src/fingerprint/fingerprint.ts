import { createHash } from 'node:crypto';
import type { ParsedReport } from '../../parsers/report.js';
import { incompleteIdentity } from './incomplete.js';
import { goraceV1 } from './legacy/gorace-v1.js';
import { type Side, sidesOf, type UnknownReason } from './sides.js';

/**
 * The key that names a bug. Version 2 (`gorace-v2:`); racewatch 0.1 gave `gorace-v1:` keys (legacy/gorace-v1.ts),
 * and every report still computes those too, so that nothing 0.1 filed is filed again (its lineage).
 */
export const FINGERPRINT_VERSION = 'gorace-v2';
export const TITLE_MAX_CHARS = 255;

export interface FingerprintOptions {
  /** How many application frames of each access make up the key (default 1: the racing functions). */
  depth: number;
  /** Helper functions (matched against normalized names) that never identify a bug. */
  skipFunctions: RegExp[];
  /** Import-path prefixes of the application; empty means every non-standard-library package. */
  appModules: string[];
}

export const DEFAULT_FINGERPRINT_OPTIONS: FingerprintOptions = { depth: 1, skipFunctions: [], appModules: [] };

/**
 * - `complete`: both accesses name functions; the key is their unordered pair.
 * - `half`: one side is unknown (lost or cut off); the key is the surviving side alone, so that the report can
 *   join the issue of the complete report that contains that side.
 * - `incomplete`: neither side names a function; see incomplete.ts.
 */
export type ReportKind = 'complete' | 'half' | 'incomplete';

export interface UnknownSide {
  /** `read`, `previous write`, `previous access`. */
  access: string;
  reason: UnknownReason;
}

export interface Fingerprint {
  /** `gorace-v2:<sha256 hex>`: equal for every sighting of the same bug. */
  key: string;
  title: string;
  /** The normalized frames each known side contributed (sorted so that access order does not matter). */
  sides: string[][];
  kind: ReportKind;
  /** Keys earlier releases gave this report whose issues are this bug's: looked up like the key itself. */
  lineage: string[];
  /** The key of each known side alone: a complete report joins an issue filed for a half report of either side. */
  sideKeys: string[];
  /** Earlier keys that named many unrelated bugs at once: only read to learn which sightings GitLab already has. */
  formerShared: string[];
  unknownSides: UnknownSide[];
}

/** What besides its key and title tells where a report's sightings belong (see the sink's issue policy). */
export type BugIdentity = Pick<Fingerprint, 'kind' | 'lineage' | 'sideKeys' | 'formerShared' | 'unknownSides'>;

export function fingerprintReport(report: Pick<ParsedReport, 'accesses' | 'creations' | 'truncated' | 'text'>, options: FingerprintOptions): Fingerprint {
  const sides = sidesOf(report, options);
  const known = sides.flatMap((side) => (side.kind === 'named' ? [side.names] : [])).sort(compareSides);
  const unknownSides = sides.flatMap((side): UnknownSide[] => (side.kind === 'unknown' ? [{ access: side.access, reason: side.reason }] : []));
  const v1 = goraceV1(report.accesses, options).key;
  const sideKeys = [...new Set(known.map(sideKey))];
  if (known.length === 2) {
    const key = keyOf('pair', JSON.stringify(known));
    return {
      key,
      title: racingTitle(known, 1),
      sides: known,
      kind: 'complete',
      lineage: [v1],
      sideKeys,
      formerShared: [],
      unknownSides,
    };
  }
  if (known.length === 1) {
    const title = racingTitle(known, 1);
    return { key: sideKeys[0]!, title, sides: known, kind: 'half', lineage: [v1], sideKeys, formerShared: [], unknownSides };
  }
  const identity = incompleteIdentity(report);
  const key = keyOf(identity.basis, identity.payload);
  return { key, title: sanitizeTitle(identity.title), sides: identity.sides, kind: 'incomplete', lineage: [], sideKeys: [], formerShared: [v1], unknownSides };
}

/** The key gorace-v2 gives a report without frames whose text says nothing but its access lines (incomplete.ts). */
export function unidentifiedReportKey(text: string): string {
  return keyOf('report', text);
}

/** The key of one side alone: what a half report of that side is filed under. */
export function sideKey(side: string[]): string {
  return keyOf('side', JSON.stringify(side));
}

function keyOf(basis: string, payload: string): string {
  return `${FINGERPRINT_VERSION}:${createHash('sha256').update(`${basis}\n${payload}`).digest('hex')}`;
}

function compareSides(a: string[], b: string[]): number {
  return a.join('\n').localeCompare(b.join('\n'));
}

/**
 * The title of a bug whose known sides name functions: each racing function with the last `pathElements` elements
 * of its import path (1: `session.(*Store).Lookup`, 2: `svc/session.(*Store).Lookup`), a lost side as such.
 */
export function racingTitle(sides: string[][], pathElements: number): string {
  const names = sides.map((side) => side[0]!.split('/').slice(-pathElements).join('/'));
  if (names.length === 1) names.push('(other side unknown)');
  return sanitizeTitle(`Data race: ${names.join(' / ')}`);
}

/** Titles come from log text: keep them to one plain line GitLab will not turn into mentions or references. */
export function sanitizeTitle(title: string): string {
  return title
    .replace(/[\u0000-\u001f\u007f]/g, ' ')
    .replace(/[@#~`<>]/g, '')
    .slice(0, TITLE_MAX_CHARS);
}

export type { Side };
