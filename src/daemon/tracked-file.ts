import { fstatSync, readSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { allocateCountableBuffer } from '../bytes/count-byte.js';
import { RaceExtractor, type ExtractEvent, type ExtractOptions, type ResumePoint } from '../pipeline/extract.js';
import { countBytesRead } from '../observability/metrics.js';
import { type Checkpoint, checkpointOf, MARK_BYTES, markOf } from '../state/checkpoints.js';

const CHUNK_BYTES = 1024 * 1024;
// One read buffer for every followed file: reads are sequential, and the extractor copies what it keeps.
// A countable one, so that the lines between reports are counted in place rather than copied first.
const buffer = allocateCountableBuffer(CHUNK_BYTES);
const probe = Buffer.alloc(2);

/** A file's identity while it exists: device and inode. */
export const fileKey = (info: { dev: number; ino: number }): string => `${info.dev}:${info.ino}`;

/**
 * One log file being followed, known by device and inode rather than by path, so that a rename during
 * rotation does not lose it: its open handle keeps reading what the old writer still appends.
 */
export class TrackedFile {
  private extractor: RaceExtractor;
  private offset: number;
  private lastSize = -1;
  private lastMtimeMs = -1;
  lastGrowthAt: number;
  /** When the file was last found at one of the followed paths; older means deleted or rotated away. */
  lastSeenAt: number;

  constructor(
    public path: string,
    readonly dev: number,
    readonly ino: number,
    private readonly handle: FileHandle,
    private readonly options: ExtractOptions,
    resume: ResumePoint,
    now: number,
  ) {
    this.offset = resume.offset;
    this.extractor = new RaceExtractor(path, options, resume);
    this.lastGrowthAt = now;
    this.lastSeenAt = now;
  }

  get key(): string {
    return fileKey(this);
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
    if (this.lastSize === 0) return readSync(this.handle.fd, probe, 0, 1, 0) === 0;
    return readSync(this.handle.fd, probe, 0, 2, this.lastSize - 1) === 1;
  }

  /** Reads whatever was appended since the last read; a truncated or rewritten file is read again from 0. */
  async readAvailable(now: number): Promise<{ events: ExtractEvent[]; restarted: string | null; changed: boolean }> {
    // Synchronous: an fstat takes microseconds, and a thread-pool round trip per quiet file each pass would
    // cost more CPU than the checking itself.
    const info = fstatSync(this.handle.fd);
    let restarted: string | null = null;
    const changed = info.size !== this.lastSize || info.mtimeMs !== this.lastMtimeMs;
    if (changed) restarted = await this.checkStillSame(info.size);
    this.lastSize = info.size;
    this.lastMtimeMs = info.mtimeMs;
    const events: ExtractEvent[] = [];
    while (this.offset < info.size) {
      const { bytesRead } = await this.handle.read(buffer, 0, Math.min(CHUNK_BYTES, info.size - this.offset), this.offset);
      if (bytesRead === 0) break;
      events.push(...this.extractor.push(buffer.subarray(0, bytesRead)));
      this.offset += bytesRead;
      this.lastGrowthAt = now;
      countBytesRead(bytesRead);
    }
    return { events, restarted, changed };
  }

  private async checkStillSame(size: number): Promise<string | null> {
    if (this.offset === 0) return null;
    if (size < this.offset) return this.restart('truncated (copytruncate or a new writer)');
    // The last checkpoint hashed the bytes before its offset: if they changed, the file was rewritten.
    if (this.saved === null) return null;
    const start = Math.max(0, this.saved.offset - MARK_BYTES);
    const before = Buffer.alloc(this.saved.offset - start);
    await this.handle.read(before, 0, before.length, start);
    if (markOf(before) !== this.saved.mark) return this.restart('rewritten in place');
    return null;
  }

  private restart(reason: string): string {
    this.offset = 0;
    this.extractor = new RaceExtractor(this.path, this.options);
    this.saved = null;
    return reason;
  }

  /** Offers a report left open at this file's end to the file now at its path (see RaceExtractor.offerOpenReportTo). */
  offerOpenReportTo(next: TrackedFile): boolean {
    return this.extractor.offerOpenReportTo(next.extractor);
  }

  /** True once the file has no name left: deleted (its inode number may be reused by a new file). */
  async isDeleted(): Promise<boolean> {
    return fstatSync(this.handle.fd).nlink === 0;
  }

  /** A report its writer left unfinished for `timeoutMs` is filed as cut off; later lines cannot reopen it. */
  closeIfQuiet(now: number, timeoutMs: number): ExtractEvent[] {
    if (!this.extractor.hasOpenReport || now - this.lastGrowthAt < timeoutMs) return [];
    return this.extractor.closeOpenReport();
  }

  private saved: Checkpoint | null = null;

  /** The position to save: the marker of a report still open, else everything read. */
  async checkpoint(): Promise<Checkpoint> {
    const resume = this.extractor.resumePoint;
    if (this.saved && this.saved.offset === resume.offset && this.saved.path === this.path) return this.saved;
    const start = Math.max(0, resume.offset - MARK_BYTES);
    const before = Buffer.alloc(resume.offset - start);
    if (before.length > 0) await this.handle.read(before, 0, before.length, start);
    this.saved = checkpointOf(this, resume, before);
    return this.saved;
  }

  async close(): Promise<ExtractEvent[]> {
    const events = this.extractor.closeOpenReport();
    await this.handle.close();
    return events;
  }
}
