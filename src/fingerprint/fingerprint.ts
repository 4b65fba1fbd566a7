import { createHash } from 'node:crypto';

/**
 * What every format's key has in common (parsers/<format>/key.ts computes it): the options a user sets, the
 * fingerprint's shape, and how a key and a title are written.
 */

export const TITLE_MAX_CHARS = 255;

export interface FingerprintOptions {
  /** How many application frames of each side make up the key (default 1: the racing functions). */
  depth: number;
  /** Helper functions (matched against normalized names) that never identify a bug. */
  skipFunctions: RegExp[];
  /** Import-path prefixes of the application; empty means every non-standard-library package. */
  appModules: string[];
}

export const DEFAULT_FINGERPRINT_OPTIONS: FingerprintOptions = { depth: 1, skipFunctions: [], appModules: [] };

/**
 * - `complete`: every side of the report names code; the key is the set of those sides.
 * - `half`: one side is unknown (lost or cut off); the key is the surviving side alone, so that the report can
 *   join the issue of the complete report that contains that side.
 * - `incomplete`: no side names code; the format keys it by what it still has.
 */
export type ReportKind = 'complete' | 'half' | 'incomplete';

export interface UnknownSide {
  /** How the report names the side: `read`, `previous write`, `previous access`. */
  access: string;
  /** Why it names no code: `lost`, `cut`, `no-frames`, `not-printed`. */
  reason: string;
}

export interface Fingerprint {
  /** `<format version>:<sha256 hex>`: equal for every sighting of the same bug. */
  key: string;
  title: string;
  /** The normalized frames each known side contributed (sorted so that the order printed does not matter). */
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

/** A key: the version of the rule that made it, and a hash of what it was made from. */
export function hashKey(version: string, basis: string, payload: string): string {
  return `${version}:${createHash('sha256').update(`${basis}\n${payload}`).digest('hex')}`;
}

/** Titles come from log text: keep them to one plain line GitLab will not turn into mentions or references. */
export function sanitizeTitle(title: string): string {
  return title
    .replace(/[\u0000-\u001f\u007f]/g, ' ')
    .replace(/[@#~`<>]/g, '')
    .slice(0, TITLE_MAX_CHARS);
}
