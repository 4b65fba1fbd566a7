import { readdirSync, type Stats, statSync } from 'node:fs';
import path from 'node:path';
import picomatch from 'picomatch';
import { STDIN_PATH } from './expand.js';

/**
 * The generations a single-file path is rotated into: logrotate renames `svc.log` to `svc.log.1` (then
 * `.2`, `.2.gz`, …) or, with `dateext`, to `svc.log-20261206`. Only the path is followed, so a generation
 * born and renamed between two looks would never be read, and the tail a writer added just before a
 * rename would be lost with it. These are the files that may hold such bytes: the path's siblings named
 * `<name>.<suffix>` or `<name>-<suffix>`.
 */
export function rotatedSiblings(specs: readonly string[]): string[] {
  const siblings = new Set<string>();
  for (const spec of singleFileSpecs(specs)) {
    const dir = path.dirname(spec);
    for (const name of namesIn(dir)) if (isGenerationName(name, path.basename(spec))) siblings.add(path.join(dir, name));
  }
  for (const spec of specs) siblings.delete(spec);
  return [...siblings].sort();
}

/** The single-file path whose lineage a file of that name belongs to (the path itself or a generation of it), or null. */
export function lineageOf(file: string, specs: readonly string[]): string | null {
  for (const spec of singleFileSpecs(specs)) {
    if (file === spec || (path.dirname(file) === path.dirname(spec) && isGenerationName(path.basename(file), path.basename(spec)))) return spec;
  }
  return null;
}

/**
 * The files of one log's lineage, for any set of paths: a file belongs to the shortest known name it is
 * a generation of (`svc.log.2.gz` and `svc.log-20261206` to `svc.log` when `svc.log` is among `known`),
 * else to its own name.
 */
export class Lineages {
  private readonly namesByDir = new Map<string, Set<string>>();

  constructor(known: Iterable<string>) {
    for (const file of known) {
      const dir = path.dirname(file);
      const names = this.namesByDir.get(dir) ?? new Set<string>();
      names.add(path.basename(file));
      this.namesByDir.set(dir, names);
    }
  }

  rootOf(file: string): string {
    const dir = path.dirname(file);
    const name = path.basename(file);
    const names = this.namesByDir.get(dir);
    if (names) {
      for (let end = name.search(/[.-]/); end !== -1; end = nextSeparator(name, end + 1)) {
        if (end + 1 < name.length && names.has(name.slice(0, end))) return path.join(dir, name.slice(0, end));
      }
    }
    return file;
  }
}

function nextSeparator(name: string, from: number): number {
  const rest = name.slice(from).search(/[.-]/);
  return rest === -1 ? -1 : from + rest;
}

function isGenerationName(name: string, base: string): boolean {
  return name.length > base.length + 1 && name.startsWith(base) && (name[base.length] === '.' || name[base.length] === '-');
}

const singleFileCache = new WeakMap<readonly string[], string[]>();

/** The specs that name one file (not a glob, a directory or standard input). Cached per list: a directory's kind does not change under a follower. */
export function singleFileSpecs(specs: readonly string[]): string[] {
  let found = singleFileCache.get(specs);
  if (!found) {
    found = specs.filter((spec) => spec !== STDIN_PATH && !picomatch.scan(spec).isGlob && !isDirectory(spec));
    singleFileCache.set(specs, found);
  }
  return found;
}

/**
 * File timestamps come from the kernel's coarse clock, which trails the wall clock by up to a scheduler
 * tick (4-10 ms): a generation born this long before a look still counts as born after it. Network
 * filesystems stamp with the server's clock; one running behind by more than this can hide a generation
 * born in that gap (README: name the generations with a glob there).
 */
export const CLOCK_SLACK_MS = 100;

/**
 * Whether a file came into being (or, where the filesystem keeps no birth time, was renamed or changed)
 * after racewatch last looked at its paths: a generation it cannot have read. Renames keep a birth time,
 * so an older generation shifted from `.1` to `.2` does not count; without one, the change time moves
 * with every rename, and such a generation is read again (its reports keep their ids: nothing is filed
 * twice).
 */
export function bornSince(info: Pick<Stats, 'birthtimeMs' | 'ctimeMs'>, lookedAt: number | null): boolean {
  if (lookedAt === null) return false;
  const born = info.birthtimeMs > 0 ? info.birthtimeMs : info.ctimeMs;
  return born >= lookedAt - CLOCK_SLACK_MS;
}

export interface Generation {
  path: string;
  /** Device and inode, as `dev:ino`. */
  key: string;
  /** Born after the last look (see bornSince): never read, so read from its start unless a checkpoint says otherwise. */
  born: boolean;
}

/** The regular files among the rotated siblings of single-file paths, each with whether it was born since `lookedAt`. */
export function rotatedGenerations(specs: readonly string[], lookedAt: number | null): Generation[] {
  const found: Generation[] = [];
  for (const sibling of rotatedSiblings(specs)) {
    const info = regularFileStat(sibling);
    if (info !== null) found.push({ path: sibling, key: `${info.dev}:${info.ino}`, born: bornSince(info, lookedAt) });
  }
  return found;
}

/**
 * Whether a generation is worth opening: born since the last look, or the file a saved checkpoint names
 * (it was the live file when racewatch last saved, and its tail may be unread). The caller still checks
 * the checkpoint's head: a reused inode is not the file that was saved.
 */
export function worthOpening(generation: Generation, savedInodes: ReadonlySet<string>): boolean {
  return generation.born || savedInodes.has(generation.key);
}

/** The `dev:ino` of each checkpoint. */
export function inodesOf(checkpoints: readonly { dev: number; ino: number }[]): Set<string> {
  return new Set(checkpoints.map((checkpoint) => `${checkpoint.dev}:${checkpoint.ino}`));
}

function regularFileStat(file: string): Stats | null {
  try {
    const info = statSync(file);
    return info.isFile() ? info : null;
  } catch {
    return null;
  }
}

function isDirectory(spec: string): boolean {
  try {
    return statSync(spec, { throwIfNoEntry: false })?.isDirectory() ?? false;
  } catch {
    return false;
  }
}

function namesIn(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
