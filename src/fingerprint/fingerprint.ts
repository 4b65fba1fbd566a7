import { createHash } from 'node:crypto';
import type { Access, Frame } from '../../parsers/report.js';
import { isStandardLibrary, isWrapperFrame, normalizeFunctionName, packagePath, shortFunctionName } from './go-names.js';

export const FINGERPRINT_VERSION = 'gorace-v1';
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

export interface Fingerprint {
  /** `gorace-v1:<sha256 hex>`: equal for every sighting of the same bug. */
  key: string;
  title: string;
  /** The normalized frames each access contributed, sorted so that access order does not matter. */
  sides: string[][];
}

const LOST_SIDE = ['(stack lost)'];
const MISSING_SIDE = ['(access not printed)'];

export function fingerprintAccesses(accesses: Access[], options: FingerprintOptions): Fingerprint {
  const sides = [0, 1].map((i) => {
    const access = accesses[i];
    return access ? sideSignature(access, options) : MISSING_SIDE;
  });
  sides.sort((a, b) => a.join('\n').localeCompare(b.join('\n')));
  const digest = createHash('sha256').update(JSON.stringify(sides)).digest('hex');
  return { key: `${FINGERPRINT_VERSION}:${digest}`, title: titleFor(sides), sides };
}

function sideSignature(access: Access, options: FingerprintOptions): string[] {
  const frames = access.stack.frames;
  if (frames.length === 0) return access.stack.lost ? LOST_SIDE : MISSING_SIDE;
  const names = frames
    .filter((frame) => isApplicationFrame(frame, options))
    .map((frame) => normalizeFunctionName(frame.func))
    .filter((name) => !options.skipFunctions.some((pattern) => pattern.test(name)));
  if (names.length > 0) return names.slice(0, options.depth);
  const top = frames.find((frame) => !isWrapperFrame(frame.func, frame.file)) ?? frames[0]!;
  return [normalizeFunctionName(top.func)];
}

function isApplicationFrame(frame: Frame, options: FingerprintOptions): boolean {
  if (isWrapperFrame(frame.func, frame.file) || isStandardLibrary(frame.func)) return false;
  if (options.appModules.length === 0) return true;
  const pkg = packagePath(frame.func);
  return pkg === 'main' || options.appModules.some((prefix) => pkg === prefix || pkg.startsWith(`${prefix}/`));
}

function titleFor(sides: string[][]): string {
  const names = sides.map((side) => shortFunctionName(side[0]!));
  const title = `Data race: ${names.join(' / ')}`;
  return sanitizeTitle(title).slice(0, TITLE_MAX_CHARS);
}

/** Titles come from log text: keep them to one plain line GitLab will not turn into mentions or references. */
function sanitizeTitle(title: string): string {
  return title.replace(/[\u0000-\u001f\u007f]/g, ' ').replace(/[@#~`<>]/g, '');
}
