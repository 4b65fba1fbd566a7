import { type Fingerprint, type FingerprintOptions, hashKey, sanitizeTitle, type UnknownSide } from '../../src/fingerprint/fingerprint.js';
import { incompleteIdentity } from './incomplete.js';
import { goraceV1 } from './legacy/gorace-v1.js';
import type { GoRaceReport } from './model.js';
import { sidesOf } from './sides.js';

/**
 * The key that names a Go race bug. Version 2 (`gorace-v2:`); racewatch 0.1 gave `gorace-v1:` keys
 * (legacy/gorace-v1.ts), and every report still computes those too, so that nothing 0.1 filed is filed again (its
 * lineage).
 */
export const FINGERPRINT_VERSION = 'gorace-v2';

export function fingerprintReport(report: Pick<GoRaceReport, 'accesses' | 'creations' | 'truncated' | 'text'>, options: FingerprintOptions): Fingerprint {
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
  return hashKey(FINGERPRINT_VERSION, basis, payload);
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
