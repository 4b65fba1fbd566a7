import { readFileSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import type { Logger } from '../log/logger.js';

/**
 * Descriptors left for everything that is not a followed file: node's own, the state writes, the sockets
 * to GitLab and the metrics server, inotify, the short reads of resume checks and of `start at end`.
 */
export const RESERVED_DESCRIPTORS = 256;
export const MIN_OPEN_FILES = 16;
/** The soft limit most systems (and systemd services) start with, for when /proc/self/limits cannot be read. */
const USUAL_SOFT_LIMIT = 1024;
const LIMIT_CODES = new Set(['EMFILE', 'ENFILE']);

/** A followed file that holds one of the pool's descriptors. */
export interface PooledFile {
  /**
   * False while closing would lose something: a report open in it, or a path that no longer names it
   * (rotated or deleted, it is drained through the descriptor it holds, as it could not be reopened).
   */
  canClose(): boolean;
  /** Gives the descriptor back; the file is reopened by path when it is next written. */
  closeHandle(): Promise<void>;
}

/** The soft RLIMIT_NOFILE (`ulimit -n`, systemd's LimitNOFILE=), or null where /proc does not say. */
export function softOpenFileLimit(limits = readProcLimits()): number | null {
  const match = limits === null ? null : /^Max open files\s+(\d+|unlimited)\s/m.exec(limits);
  if (!match) return null;
  return match[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(match[1]);
}

/** RACEWATCH_MAX_OPEN_FILES when unset: the soft limit less the reserve, at least MIN_OPEN_FILES. */
export function defaultMaxOpenFiles(softLimit = softOpenFileLimit()): number {
  const limit = softLimit ?? USUAL_SOFT_LIMIT;
  // "unlimited" still has to be a number a person can read in the logs.
  return Math.max(MIN_OPEN_FILES, Number.isFinite(limit) ? limit - RESERVED_DESCRIPTORS : 1024 * 1024);
}

function readProcLimits(): string | null {
  try {
    return readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return null;
  }
}

/**
 * A budget of open descriptors for followed files: with tens of thousands of logs, one descriptor each
 * runs into the open file limit (EMFILE). Past the budget the least recently used file (written, or
 * opened) gives its descriptor back and waits, closed, until it is written again. Opens are queued one
 * after another so that each sees the evictions of the one before: the follower's passes are sequential,
 * but position saves ask every file at once.
 */
export class HandlePool {
  /** In the order they were last used: the first is closed first. */
  private readonly holders = new Set<PooledFile>();
  /** Opened by `open` and not yet held by a file (or given back with `discard`): they count too. */
  private pending = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private warned = false;

  constructor(
    private budget: number,
    private readonly log?: Logger,
  ) {}

  /** Descriptors the pool's files hold now. */
  get openCount(): number {
    return this.holders.size + this.pending;
  }

  get limit(): number {
    return this.budget;
  }

  /**
   * Opens `path` for reading within the budget. Null when the system still refused (EMFILE, ENFILE) after
   * more files gave their descriptors back: the caller tries again at a later check. Other errors are thrown.
   */
  open(path: string): Promise<FileHandle | null> {
    const opened = this.queue.then(() => this.openNow(path));
    this.queue = opened.catch(() => {});
    return opened;
  }

  /** `file` now holds a handle from `open`, as the most recently used. */
  add(file: PooledFile): void {
    this.pending = Math.max(0, this.pending - 1);
    this.holders.delete(file);
    this.holders.add(file);
  }

  /** `file` was just written: it is closed last. */
  touch(file: PooledFile): void {
    if (this.holders.delete(file)) this.holders.add(file);
  }

  /** `file` gave its descriptor back or stopped being followed. */
  remove(file: PooledFile): void {
    this.holders.delete(file);
  }

  /** Closes a handle from `open` that no file is going to hold. */
  async discard(handle: FileHandle): Promise<void> {
    this.pending = Math.max(0, this.pending - 1);
    await handle.close();
  }

  /** Warnings about a pooled file, when the pool has a logger. */
  warn(source: string, message: string): void {
    this.log?.warn({ source }, message);
  }

  private async openNow(path: string): Promise<FileHandle | null> {
    await this.closeLeastRecent(this.openCount - this.budget + 1);
    let code: string;
    try {
      return this.opened(await open(path, 'r'));
    } catch (error) {
      if (!isLimitError(error)) throw error;
      code = (error as NodeJS.ErrnoException).code!;
    }
    // The rest of the process took more than the reserve (or the budget was set above the limit): make
    // room well below where the limit was hit, and stay there rather than hit it again at every open.
    const atLimit = this.openCount;
    await this.closeLeastRecent(Math.max(1, Math.ceil(atLimit / 8)));
    // The open below takes one of the descriptors just freed. Never below MIN_OPEN_FILES: a burst of
    // sockets that took the descriptors must not leave the budget at one file for good.
    this.budget = Math.min(this.budget, Math.max(MIN_OPEN_FILES, this.openCount + 1));
    try {
      const handle = this.opened(await open(path, 'r'));
      this.warnOnce(limitMessage(code, atLimit, `from now on at most ${this.budget} are kept open`));
      return handle;
    } catch (error) {
      if (!isLimitError(error)) throw error;
      this.warnOnce(limitMessage(code, atLimit, `still after closing some, so ${path} is read at a later check`));
      return null;
    }
  }

  private opened(handle: FileHandle): FileHandle {
    this.pending += 1;
    return handle;
  }

  /** Closes up to `count` files, least recently used first, skipping those that cannot close now. */
  private async closeLeastRecent(count: number): Promise<void> {
    let left = count;
    // Usually one file, the first: no copy of the set (deleting while iterating a Set is safe).
    for (const file of this.holders) {
      if (left <= 0) return;
      if (!file.canClose()) continue;
      this.holders.delete(file);
      // The file that asked for room has nothing to do with this one's failure.
      await file.closeHandle().catch((error: Error) => this.log?.warn(`closing a followed file to stay within the budget failed: ${error.message}`));
      left -= 1;
    }
  }

  private warnOnce(message: string): void {
    if (this.warned) return;
    this.warned = true;
    this.log?.warn(message);
  }
}

function isLimitError(error: unknown): boolean {
  return LIMIT_CODES.has((error as NodeJS.ErrnoException | undefined)?.code ?? '');
}

/** One line: which limit, how many followed files were open, what racewatch does now, what to set. */
function limitMessage(code: string, openFiles: number, outcome: string): string {
  const soft = softOpenFileLimit();
  const [limit, raise] =
    code === 'ENFILE'
      ? ['the system-wide open file limit', 'fs.file-max']
      : [`the open file limit${soft === null ? '' : ` (${soft})`}`, 'ulimit -n, systemd LimitNOFILE='];
  return `${code}: ${limit} was reached with ${openFiles} followed files open: ${outcome}; set RACEWATCH_MAX_OPEN_FILES lower or raise the limit (${raise})`;
}
