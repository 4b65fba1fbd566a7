import type { FingerprintOptions } from '../../src/fingerprint/fingerprint.js';
import type { Access, Frame, GoRaceReport } from './model.js';
import { nestedUnderCaller } from './closures.js';
import { isAtomicOperation, isStandardLibrary, isWrapperFrame, normalizeFunctionName, packagePath } from './names.js';

/** Why a side of a report names no function. */
export type UnknownReason =
  /** The runtime printed `[failed to restore the stack]`: the access's history was already overwritten. */
  | 'lost'
  /** The report was cut off (the log ended, the writer died) inside or before this access's stack. */
  | 'cut'
  /** The access line is there but no frame under it (a paste or a log that lost the stack lines). */
  | 'no-frames'
  /** The report ended before its second access. */
  | 'not-printed';

export type Side = { kind: 'named'; names: string[] } | { kind: 'unknown'; reason: UnknownReason; access: string };

/** The two sides of a report, in the order printed (current access, then previous). */
export function sidesOf(report: Pick<GoRaceReport, 'accesses' | 'creations' | 'truncated'>, options: FingerprintOptions): Side[] {
  return [0, 1].map((index) => {
    const access = report.accesses[index];
    if (!access) return { kind: 'unknown', reason: 'not-printed', access: 'previous access' };
    // Only the last stack printed before a cut can be incomplete; a creation section after it means it ended.
    const mayBeCut = report.truncated && index === report.accesses.length - 1 && report.creations.length === 0;
    return sideOf(access, options, mayBeCut);
  });
}

/** `read`, `previous write`: how the issue text names an access. */
export function accessName(access: Pick<Access, 'op' | 'previous'>): string {
  return access.previous ? `previous ${access.op}` : access.op;
}

function sideOf(access: Access, options: FingerprintOptions, mayBeCut: boolean): Side {
  const frames = access.stack.frames;
  const unknown = (reason: UnknownReason): Side => ({ kind: 'unknown', reason, access: accessName(access) });
  if (frames.length === 0) return unknown(access.stack.lost ? 'lost' : mayBeCut ? 'cut' : 'no-frames');
  // The race runtime drops the direct caller of a sync/atomic operation, so the frames below it are whichever
  // function called that caller: the goroutine's closure, a worker loop. Only the operation itself is stable.
  if (isAtomicOperation(frames[0]!.func)) return { kind: 'named', names: [normalizeFunctionName(frames[0]!.func)] };
  const names = applicationNames(frames, options);
  if (mayBeCut && names.length < options.depth) return unknown('cut');
  if (names.length > 0) return { kind: 'named', names: names.slice(0, options.depth) };
  const top = frames.find((frame) => !isWrapperFrame(frame.func, frame.file)) ?? frames[0]!;
  return { kind: 'named', names: [normalizeFunctionName(top.func)] };
}

function applicationNames(frames: Frame[], options: FingerprintOptions): string[] {
  return frames
    .flatMap((frame, index) => {
      if (!isApplicationFrame(frame, options)) return [];
      const caller = frames[index + 1];
      return [nestedUnderCaller(normalizeFunctionName(frame.func), caller && normalizeFunctionName(caller.func))];
    })
    .filter((name) => !options.skipFunctions.some((pattern) => pattern.test(name)));
}

function isApplicationFrame(frame: Frame, options: FingerprintOptions): boolean {
  if (isWrapperFrame(frame.func, frame.file) || isStandardLibrary(frame.func)) return false;
  if (options.appModules.length === 0) return true;
  const pkg = packagePath(frame.func);
  return pkg === 'main' || options.appModules.some((prefix) => pkg === prefix || pkg.startsWith(`${prefix}/`));
}
