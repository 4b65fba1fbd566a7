/**
 * The sentence for an error the machine caused (a file, a directory, a disk, a port), or null when the
 * error is not one of those. Every such error reaches the user as one line naming the path and what to
 * do, never as a stack trace.
 */
export function environmentErrorSentence(error: unknown): string | null {
  const { code, path, syscall, address, port } = error as NodeJS.ErrnoException & { address?: string; port?: number };
  if (typeof code !== 'string') return null;
  const why = (port === undefined ? undefined : PORT_REASONS[code]) ?? REASONS[code];
  if (!why) return null;
  const where = path ?? (port === undefined ? undefined : `${address ?? ''}:${port}`);
  if (where) return `cannot ${syscall ?? 'use'} ${where}: ${why}`;
  return PATHLESS.has(code) ? `cannot ${syscall ?? 'go on'}: ${why}` : null;
}

// Errors that mean the same whichever file they hit (Node reports a write on an open handle without its path).
const PATHLESS = new Set(['ENOSPC', 'EDQUOT', 'EMFILE', 'ENFILE']);

/** A listen error names an address and a port: the same codes mean something else than for a file. */
const PORT_REASONS: Record<string, string> = {
  EACCES: 'permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE; choose another RACEWATCH_METRICS_PORT)',
  EPERM: 'not permitted here (choose another RACEWATCH_METRICS_PORT or RACEWATCH_METRICS_HOST)',
};

const REASONS: Record<string, string> = {
  EACCES: 'permission denied (racewatch needs read and write access there)',
  EPERM: 'operation not permitted',
  EROFS: 'the filesystem is read-only (choose a writable RACEWATCH_STATE_DIR)',
  ENOTDIR: 'a part of the path is a file, not a directory',
  EEXIST: 'it exists and is not a directory',
  EISDIR: 'it is a directory',
  ENOENT: 'no such file or directory (was it deleted while racewatch ran?)',
  ENOSPC: 'the disk is full (free some space; nothing was lost: the previous state is intact)',
  EDQUOT: 'the disk quota is exhausted',
  EMFILE: 'too many open files (raise the limit: ulimit -n, or LimitNOFILE= in the unit)',
  ENFILE: 'the system ran out of open files',
  EADDRINUSE: 'the address is in use (choose another RACEWATCH_METRICS_PORT)',
  EADDRNOTAVAIL: 'no such address on this machine (check RACEWATCH_METRICS_HOST)',
};
