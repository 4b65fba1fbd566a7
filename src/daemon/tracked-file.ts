import { fstatSync, readSync, statSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { allocateCountableBuffer } from '../bytes/count-byte.js';
import { RaceExtractor, type ExtractEvent, type ExtractOptions, type ResumePoint } from '../pipeline/extract.js';
import { countBytesRead } from '../observability/metrics.js';
import type { Checkpoint } from '../state/checkpoints.js';
import { captureCheckpoint, checkpointOf, contentOfHandle, savedPositionProblem } from '../source/resume.js';
import { HandlePool, type PooledFile } from './handle-pool.js';

const CHUNK_BYTES = 1024 * 1024;
// One read buffer for every followed file: reads are sequential, and the extractor copies what it keeps.
// A countable one, so that the lines between reports are counted in place rather than copied first.
const buffer = allocateCountableBuffer(CHUNK_BYTES);
const probe = Buffer.alloc(2);

/** A file's identity while it exists: device and inode. */
export const fileKey = (info: { dev: number; ino: number }): string => `${info.dev}:${info.ino}`;

/** Path errors that mean the path names nothing now: the file went away, not racewatch's access to it. */
const GONE_CODES = new Set(['ENOENT', 'ENOTDIR']);

/**
 * One log file being followed, known by device and inode rather than by path, so that a rename during
 * rotation does not lose it: its open handle keeps reading what the old writer still appends.
 *
 * Past the pool's budget a file gives its handle back ("dormant") and is reopened by path when the path
 * shows it written, as long as the path still names its device and inode: a dormant file renamed away
 * is read again only once a listing finds its new name. Only a file with no report open and still at its
 * path goes dormant, and nothing moves its position while it is, so its last checkpoint stays true
 * without the handle.
 */
export class TrackedFile implements PooledFile {
  private extractor: RaceExtractor;
  private offset: number;
  private lastSize = -1;
  private lastMtimeMs = -1;
  lastGrowthAt: number;
  /** When the file was last found at one of the followed paths; older means deleted or rotated away. */
  lastSeenAt: number;
  private handle: FileHandle | null;
  /** A reopen failed for another reason than the path being gone: warned once until one succeeds. */
  private reopenFailed = false;
  /** When the file was created, where the filesystem says: orders the generations of a rotated log. */
  bornAt: number | null = null;
  /** The path of the file this one offered its open report to (see offerOpenReportTo). */
  private successorPath: string | null = null;

  /** `handle`: from `pool.open` (the file then holds it in the pool), or opened by the caller without a pool. */
  constructor(
    public path: string,
    readonly dev: number,
    readonly ino: number,
    handle: FileHandle,
    private readonly options: ExtractOptions,
    resume: ResumePoint,
    now: number,
    private readonly pool: HandlePool = new HandlePool(Number.POSITIVE_INFINITY),
  ) {
    this.handle = handle;
    this.offset = resume.offset;
    this.extractor = new RaceExtractor(path, options, resume);
    this.lastGrowthAt = now;
    this.lastSeenAt = now;
    pool.add(this);
  }

  get key(): string {
    return fileKey(this);
  }

  /** Holds no descriptor: it gave it back to the pool (see the class comment). */
  get dormant(): boolean {
    return this.handle === null;
  }

  canClose(): boolean {
    if (this.handle === null || this.extractor.hasOpenReport) return false;
    const info = statSync(this.path, { throwIfNoEntry: false });
    return info !== undefined && info.dev === this.dev && info.ino === this.ino;
  }

  /** For the pool: saves what a dormant file answers with, its checkpoint and last size, then closes the handle. */
  async closeHandle(): Promise<void> {
    const handle = this.handle;
    if (handle === null) return;
    try {
      await this.checkpoint();
      if (this.lastSize < 0) {
        // Listed but not read yet: when there is nothing to read the size is as good as read, and the
        // file need not be reopened by the first pass just to find that out.
        const info = fstatSync(handle.fd);
        if (info.size === this.offset) [this.lastSize, this.lastMtimeMs] = [info.size, info.mtimeMs];
      }
    } finally {
      this.handle = null;
      this.pool.remove(this);
      await handle.close();
    }
  }

  /**
   * For the frequent passes over thousands of quiet files: true when the file is exactly the size last
   * seen and no report waits to be closed. Two bytes read from its last byte on tell both: one means the
   * same size, two that it grew, none that it shrank (copytruncate: a truncated file that has not yet
   * regrown to its old size would otherwise look quiet until the next `verify`). The read costs about half
   * an fstat and allocates nothing (an fstat allocates a Stats object with four Dates, and that garbage was
   * most of the idle CPU). A rewrite in place to the same size shows in the fstat of the next `verify`.
   */
  isQuiet(): boolean {
    if (this.extractor.hasOpenReport || this.lastSize < 0) return false;
    if (this.handle === null) return !this.writtenWhileDormant();
    if (this.lastSize === 0) return readSync(this.handle.fd, probe, 0, 1, 0) === 0;
    return readSync(this.handle.fd, probe, 0, 2, this.lastSize - 1) === 1;
  }

  /**
   * A stat of the path instead of a read through the handle: true when the path still names this file
   * and its size or mtime moved since it was last read. A path that names another file or none shows
   * nothing: the listing decides whether the file moved (and is reopened at its new name) or is gone.
   */
  private writtenWhileDormant(): boolean {
    const info = statSync(this.path, { throwIfNoEntry: false });
    if (info === undefined || info.dev !== this.dev || info.ino !== this.ino) return false;
    return info.size !== this.lastSize || info.mtimeMs !== this.lastMtimeMs;
  }

  /** Takes a descriptor from the pool again; false when the path no longer names this file or none is free. */
  private async reopen(): Promise<boolean> {
    let handle: FileHandle | null;
    try {
      handle = await this.pool.open(this.path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? '';
      if (!GONE_CODES.has(code) && !this.reopenFailed) {
        this.pool.warn(this.path, `${this.path}: cannot open it again (${(error as Error).message}); tried again at every check`);
      }
      this.reopenFailed = !GONE_CODES.has(code);
      return false;
    }
    if (handle === null) return false;
    const info = fstatSync(handle.fd);
    if (info.dev !== this.dev || info.ino !== this.ino) {
      // Replaced between the stat and the open: what is at the path now is another file's.
      await this.pool.discard(handle);
      return false;
    }
    this.handle = handle;
    this.reopenFailed = false;
    this.pool.add(this);
    return true;
  }

  /** Reads whatever was appended since the last read; a truncated or rewritten file is read again from 0. */
  async readAvailable(now: number): Promise<{ events: ExtractEvent[]; restarted: string | null; changed: boolean }> {
    if (this.handle === null && !(this.writtenWhileDormant() && (await this.reopen()))) return { events: [], restarted: null, changed: false };
    const handle = this.handle!;
    // Synchronous: an fstat takes microseconds, and a thread-pool round trip per quiet file each pass would
    // cost more CPU than the checking itself.
    const info = fstatSync(handle.fd);
    let restarted: string | null = null;
    const changed = info.size !== this.lastSize || info.mtimeMs !== this.lastMtimeMs;
    if (changed) restarted = await this.checkStillSame(handle, info.size);
    this.lastSize = info.size;
    this.lastMtimeMs = info.mtimeMs;
    const events: ExtractEvent[] = [];
    while (this.offset < info.size) {
      const { bytesRead } = await handle.read(buffer, 0, Math.min(CHUNK_BYTES, info.size - this.offset), this.offset);
      if (bytesRead === 0) break;
      if (this.lastGrowthAt !== now) this.pool.touch(this);
      events.push(...this.extractor.push(buffer.subarray(0, bytesRead)));
      this.offset += bytesRead;
      this.lastGrowthAt = now;
      countBytesRead(bytesRead);
    }
    return { events, restarted, changed };
  }

  private async checkStillSame(handle: FileHandle, size: number): Promise<string | null> {
    if (this.offset === 0) return null;
    if (size < this.offset) return this.restart('truncated (copytruncate or a new writer)');
    // The last checkpoint hashed the bytes before its offset: if they changed, the file was rewritten.
    // The same check as when a saved position is resumed (resume.ts), through the handle.
    if (this.saved === null) return null;
    const problem = await savedPositionProblem(this.saved, size, contentOfHandle(handle));
    if (problem === null) return null;
    return this.restart(problem === 'rewritten' ? 'rewritten in place' : 'truncated (copytruncate or a new writer)');
  }

  private restart(reason: string): string {
    this.offset = 0;
    this.extractor = new RaceExtractor(this.path, this.options);
    this.savedBeforeRestart = this.saved ?? this.savedBeforeRestart;
    this.saved = null;
    return reason;
  }

  /** The last checkpoint saved before the file was truncated: a copy of it (copytruncate) is read from there. */
  get positionBeforeTruncation(): Checkpoint | null {
    return this.savedBeforeRestart;
  }

  /** The checkpoints that say what this file began with: the current one and the one before a truncation. */
  get knownStarts(): Checkpoint[] {
    return [this.saved, this.savedBeforeRestart].filter((checkpoint) => checkpoint !== null);
  }

  /** An fstat: the file is shorter than what was read of it (copytruncate) and is read again from 0. */
  noticeTruncation(): string | null {
    if (this.handle === null || this.offset === 0 || fstatSync(this.handle.fd).size >= this.offset) return null;
    return this.restart('truncated (copytruncate or a new writer)');
  }

  /** Offers a report left open at this file's end to the file now at its path (see RaceExtractor.offerOpenReportTo). */
  offerOpenReportTo(next: TrackedFile): boolean {
    this.successorPath = next.path;
    return this.extractor.offerOpenReportTo(next.extractor);
  }

  /**
   * The path to save with the position: while the report left open here continues in the file that
   * replaced this one, the path that file has, so that a restart pairs the two again (follower.ts).
   */
  private get pathToSave(): string {
    return this.extractor.continuesInNextFile && this.successorPath !== null ? this.successorPath : this.path;
  }

  /**
   * True once the file has no name left: deleted (its inode number may be reused by a new file). A
   * dormant file can only be looked for at its path: true when that names another file or none.
   */
  async isDeleted(): Promise<boolean> {
    if (this.handle === null) {
      const info = statSync(this.path, { throwIfNoEntry: false });
      return info === undefined || info.dev !== this.dev || info.ino !== this.ino;
    }
    return fstatSync(this.handle.fd).nlink === 0;
  }

  /** A report its writer left unfinished for `timeoutMs` is filed as cut off; later lines cannot reopen it. */
  closeIfQuiet(now: number, timeoutMs: number): ExtractEvent[] {
    if (!this.extractor.hasOpenReport || now - this.lastGrowthAt < timeoutMs) return [];
    return this.extractor.closeOpenReport();
  }

  private saved: Checkpoint | null = null;
  private savedBeforeRestart: Checkpoint | null = null;

  /** The position to save: the marker of a report still open, else everything read. */
  async checkpoint(): Promise<Checkpoint> {
    const resume = this.extractor.resumePoint;
    const path = this.pathToSave;
    if (this.saved && this.saved.offset === resume.offset) {
      if (this.saved.path === path) return this.saved;
      // Renamed while dormant: the bytes before the position are still the ones hashed before it closed.
      if (this.handle === null) return (this.saved = { ...this.saved, path });
    }
    // A dormant file's position moves only when a report it lent across a rotation settles in the other file.
    // Without its bytes the older position stands: read again from there, nothing is lost.
    const file = { path, dev: this.dev, ino: this.ino };
    if (this.handle === null && !(await this.reopen())) return this.saved ?? checkpointOf(file, { ...resume, offset: 0, line: 1 }, Buffer.alloc(0));
    this.saved = await captureCheckpoint(file, resume, contentOfHandle(this.handle!));
    return this.saved;
  }

  async close(): Promise<ExtractEvent[]> {
    const events = this.extractor.closeOpenReport();
    const handle = this.handle;
    this.handle = null;
    this.pool.remove(this);
    await handle?.close();
    return events;
  }
}
