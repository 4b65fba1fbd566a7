import { statSync, type Stats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

export const STDIN_PATH = '-';

export interface SourceFile {
  /** As the user named it (or as found under a named directory); `-` is standard input. */
  path: string;
  /** Bytes on disk (compressed size for .gz); null for standard input. */
  size: number | null;
}

export class InputError extends Error {
  constructor(
    readonly source: string,
    message: string,
  ) {
    super(`${source}: ${message}`);
    this.name = 'InputError';
  }
}

export interface ExpandedPaths {
  files: SourceFile[];
  errors: InputError[];
  /** Matched by a glob or found in a directory, but not a regular file (a FIFO, a socket, a device): never read. */
  skipped: InputError[];
  /** Listed by a glob or a directory, but gone before its stat (a rotation under way, or a dangling link). */
  vanished: number;
}

/** Turns command-line paths (files, directories searched recursively, globs, `-`) into files to read, in a stable order. */
export async function expandPaths(specs: string[]): Promise<ExpandedPaths> {
  const files: SourceFile[] = [];
  const errors: InputError[] = [];
  const skipped: InputError[] = [];
  const gone = { count: 0 };
  const seen = new Set<string>();
  const add = (file: SourceFile): void => {
    const key = file.path === STDIN_PATH ? STDIN_PATH : path.resolve(file.path);
    if (seen.has(key)) return;
    seen.add(key);
    files.push(file);
  };
  for (const spec of specs) {
    try {
      for (const file of await expandOne(spec, skipped, gone)) add(file);
    } catch (error) {
      errors.push(error instanceof InputError ? error : new InputError(spec, describeFsError(error)));
    }
  }
  return { files, errors, skipped, vanished: gone.count };
}

interface Vanished {
  count: number;
}

async function expandOne(spec: string, skipped: InputError[], gone: Vanished): Promise<SourceFile[]> {
  if (spec === STDIN_PATH) return [{ path: STDIN_PATH, size: null }];
  const info = await stat(spec).catch((error: unknown) => {
    if (/[*?[\]{}!()]/.test(spec)) return null;
    throw new InputError(spec, describeFsError(error));
  });
  if (info === null) return expandGlob(spec, skipped, gone);
  if (info.isDirectory()) return expandDirectory(spec, skipped, gone);
  if (!info.isFile()) throw new InputError(spec, `${kindOf(info)}, not a regular file, directory or glob: racewatch reads logs (use - for standard input)`);
  return [{ path: spec, size: info.size }];
}

async function expandGlob(pattern: string, skipped: InputError[], gone: Vanished): Promise<SourceFile[]> {
  // Loaded only for globs: most runs name files and directories, and every module costs start-up time.
  const { glob } = await import('tinyglobby');
  const matches = await glob(pattern, { onlyFiles: true, dot: false, expandDirectories: false, absolute: path.isAbsolute(pattern) });
  if (matches.length === 0) throw new InputError(pattern, 'no file matches this pattern');
  return regularFiles(matches.sort(), skipped, gone);
}

async function expandDirectory(dir: string, skipped: InputError[], gone: Vanished): Promise<SourceFile[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const names = entries
    .filter((entry) => !entry.isDirectory())
    .map((entry) => path.join(entry.parentPath ?? entry.path, entry.name))
    .sort();
  return regularFiles(names, skipped, gone);
}

/**
 * The regular files among the paths, with their sizes (a symbolic link counts as what it points to). A
 * FIFO or a device would block a scan or never end (a link to /dev/zero), so those are skipped, and said.
 */
function regularFiles(paths: string[], skipped: InputError[], gone: Vanished): SourceFile[] {
  // Synchronous: thousands of files are common, and a stat is microseconds against a thread-pool round trip.
  return paths.flatMap((file) => {
    let info: Stats;
    try {
      info = statSync(file);
    } catch {
      gone.count += 1; // Gone between listing and stat (a rotation in progress), or a dangling link.
      return [];
    }
    if (info.isFile()) return [{ path: file, size: info.size }];
    if (!info.isDirectory()) skipped.push(new InputError(file, `${kindOf(info)}, not a regular file: skipped`));
    return [];
  });
}

function kindOf(info: Stats): string {
  if (info.isFIFO()) return 'a FIFO';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

export function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied (racewatch needs read access to it)';
    case 'EISDIR':
      return 'is a directory';
    case 'ELOOP':
      return 'too many levels of symbolic links';
    case 'EMFILE':
    case 'ENFILE':
      return 'too many open files';
    default:
      return error instanceof Error ? error.message : String(error);
  }
}
