import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { countByte } from '../bytes/count-byte.js';
import { HEAD_BYTES, type ResumePoint } from '../pipeline/extract.js';
import type { Checkpoint } from '../state/checkpoints.js';
import { type FileIdentity, identify, readRange } from './identity.js';
import { gunzipPipe, readChunks } from './streams.js';

/**
 * Where reading a log resumes, for the sweep and the daemon alike: which saved checkpoint belongs to which
 * file (CheckpointClaims), whether its position still holds (savedPositionProblem, decideResume), and the
 * checkpoint to save for a position (captureCheckpoint). `src/state/checkpoints.ts` only stores them.
 */

const CHUNK_BYTES = 1024 * 1024;
const LF = 0x0a;
/** A checkpoint hashes this many bytes before its offset, so a file truncated and rewritten past it is noticed. */
export const MARK_BYTES = 1024;
// Heads shorter than this say too little to recognise a file by content alone.
const MIN_HEAD_FOR_CONTENT_MATCH = 64;

/** Up to `length` bytes of a file's content (decompressed for gzip) from `start`: fewer, or null, where it ends sooner. */
export type ContentRange = (start: number, length: number) => Promise<Buffer | null>;

/** The content of the file an identity names, read by its path. */
export function contentOfPath(identity: FileIdentity): ContentRange {
  if (identity.gzip) return (start, length) => gunzippedRange(identity.path, start, start + length);
  return (start, length) => readRange(identity.path, start, length);
}

/** The content of an open file, read through its handle (a path may name another file a moment later). */
export function contentOfHandle(handle: FileHandle): ContentRange {
  return async (start, length) => {
    const bytes = Buffer.alloc(length);
    const { bytesRead } = length > 0 ? await handle.read(bytes, 0, length, start) : { bytesRead: 0 };
    return bytes.subarray(0, bytesRead);
  };
}

// ---- Identity: which checkpoint is whose ----

function headsAgree(saved: Buffer, current: Buffer): boolean {
  const length = Math.min(saved.length, current.length);
  return saved.subarray(0, length).equals(current.subarray(0, length));
}

/** The file's own checkpoint: its device and inode, with an agreeing head (the file itself, maybe renamed). */
function ownCheckpoint(checkpoint: Checkpoint, identity: FileIdentity): boolean {
  return checkpoint.dev === identity.dev && checkpoint.ino === identity.ino && headsAgree(Buffer.from(checkpoint.head, 'base64'), identity.head);
}

/** A checkpoint of the same content under another inode: a rotated copy (copytruncate) or its gzip. */
export function sameContent(checkpoint: Checkpoint, identity: FileIdentity): boolean {
  const head = Buffer.from(checkpoint.head, 'base64');
  return Math.min(head.length, identity.head.length) >= MIN_HEAD_FOR_CONTENT_MATCH && headsAgree(head, identity.head);
}

/**
 * The saved checkpoints not yet given to a file. Each goes to one file at most: its own (same inode,
 * agreeing head) first, whichever order the files come in, and only then to a file with the same content.
 * So a rotated copy listed before the original cannot take the original's position from it (the original
 * would then be read again from its start, and a copy resumed at a position that is not its own).
 */
export class CheckpointClaims {
  private readonly pending: Checkpoint[];
  /** Kept for files of `reservedFor` that have their inode and head: no other file takes them by content. */
  private reserved = new Set<Checkpoint>();
  private reservedFor: readonly string[] | null = null;

  constructor(saved: readonly Checkpoint[]) {
    this.pending = [...saved];
  }

  /** The checkpoints no file has claimed (still saved: their files may come back). */
  get unclaimed(): Checkpoint[] {
    return [...this.pending];
  }

  /** The checkpoints of every file of a listing, resolved together (the sweep): own checkpoints first. */
  claimAll(identities: readonly FileIdentity[]): Map<FileIdentity, Checkpoint | null> {
    this.reserve(identities);
    this.reservedFor = null;
    return new Map(identities.map((identity) => [identity, this.take(identity)]));
  }

  /**
   * The checkpoint of one file of `listing` (the paths listed with it), as files are opened one at a time
   * (the daemon): as if the whole listing had claimed together. Only when the file could take a checkpoint
   * by content alone are the other files of the listing looked at (a stat each, and a head read of those
   * with a pending checkpoint's inode), once per listing.
   */
  async claim(identity: FileIdentity, listing: readonly string[]): Promise<Checkpoint | null> {
    const own = this.pending.find((checkpoint) => ownCheckpoint(checkpoint, identity));
    if (own) return this.remove(own);
    if (!this.pending.some((checkpoint) => sameContent(checkpoint, identity))) return null;
    if (this.reservedFor !== listing) {
      this.reserve(await this.owners(listing));
      this.reservedFor = listing;
    }
    return this.take(identity);
  }

  private reserve(identities: Iterable<FileIdentity>): void {
    this.reserved = new Set();
    for (const identity of identities) {
      const own = this.pending.find((checkpoint) => ownCheckpoint(checkpoint, identity));
      if (own) this.reserved.add(own);
    }
  }

  /** The identities of the listed files that may own a pending checkpoint (one with their inode). */
  private async owners(listing: readonly string[]): Promise<FileIdentity[]> {
    const inodes = new Set(this.pending.map((checkpoint) => `${checkpoint.dev}:${checkpoint.ino}`));
    const owners: FileIdentity[] = [];
    for (const path of listing) {
      const info = await stat(path).catch(() => null);
      if (!info || !inodes.has(`${info.dev}:${info.ino}`)) continue;
      const identity = await identify(path).catch(() => null);
      if (identity) owners.push(identity);
    }
    return owners;
  }

  private take(identity: FileIdentity): Checkpoint | null {
    const own = this.pending.find((checkpoint) => ownCheckpoint(checkpoint, identity));
    if (own) return this.remove(own);
    const copy = this.pending.find((checkpoint) => !this.reserved.has(checkpoint) && sameContent(checkpoint, identity));
    return copy ? this.remove(copy) : null;
  }

  private remove(checkpoint: Checkpoint): Checkpoint {
    this.pending.splice(this.pending.indexOf(checkpoint), 1);
    this.reserved.delete(checkpoint);
    return checkpoint;
  }
}

// ---- Whether a saved position still holds ----

/** Why a saved position no longer holds: the file got shorter than it, or the bytes before it changed. */
export type PositionProblem = 'truncated' | 'rewritten';

/**
 * Whether the content still has, just before the saved position, the bytes that were there when it was
 * saved. `size`: the content's size when known (null for gzip: only reading tells).
 */
export async function savedPositionProblem(
  saved: Pick<Checkpoint, 'offset' | 'mark'>,
  size: number | null,
  read: ContentRange,
): Promise<PositionProblem | null> {
  if (size !== null && saved.offset > size) return 'truncated';
  const start = Math.max(0, saved.offset - MARK_BYTES);
  const before = saved.offset > start ? await read(start, saved.offset - start) : Buffer.alloc(0);
  if (before === null || before.length < saved.offset - start) return 'truncated';
  return markOf(before) === saved.mark ? null : 'rewritten';
}

const RESTART_REASONS: Record<PositionProblem, string> = {
  truncated: 'the file is shorter than the saved position (truncated)',
  rewritten: 'the bytes before the saved position changed (truncated and rewritten)',
};

export interface ResumeDecision {
  resume: ResumePoint;
  /** Why a saved position could not be used and the file is read from its start; null when it was used. */
  restartReason: string | null;
}

/**
 * Where reading a file starts. With its checkpoint: at the saved position if the bytes just before it are
 * still the bytes that were there, else (truncated, rewritten) at its start, with the reason. Without
 * one: at its start, or with `whenNew: 'end'` at its last line (a gzip file always at its start).
 */
export async function decideResume(
  identity: FileIdentity,
  checkpoint: Checkpoint | null,
  whenNew: 'start' | 'end',
  read: ContentRange = contentOfPath(identity),
): Promise<ResumeDecision> {
  const fresh = { offset: 0, line: 1, head: identity.head };
  if (!checkpoint) return { resume: whenNew === 'end' && !identity.gzip ? await endOf(identity) : fresh, restartReason: null };
  const problem = await savedPositionProblem(checkpoint, identity.gzip ? null : identity.size, read);
  if (problem) return { resume: fresh, restartReason: RESTART_REASONS[problem] };
  return { resume: { offset: checkpoint.offset, line: checkpoint.line, head: Buffer.from(checkpoint.head, 'base64') }, restartReason: null };
}

/**
 * Where a new file that is a copy of a followed one (copytruncate: copied, then the original truncated)
 * is read from: the position the original was read to before it was truncated, when the copy has its
 * first bytes and, just before that position, the bytes that were there. Reports before it have been
 * read, with the same ids. Only a truncated original counts: two logs can begin alike (the rest of one
 * report at the start of two generations) without either being a copy.
 */
export async function copyResume(identity: FileIdentity, readTo: readonly Checkpoint[], read: ContentRange): Promise<ResumePoint | null> {
  for (const position of readTo) {
    if (!sameContent(position, identity) || position.offset > identity.size) continue;
    if ((await savedPositionProblem(position, identity.size, read)) === null) {
      return { offset: position.offset, line: position.line, head: Buffer.from(position.head, 'base64') };
    }
  }
  return null;
}

export interface ResumedRead extends ResumeDecision {
  /** The content from the resume point to the size seen when the file was identified (never beyond). */
  chunks: AsyncIterable<Buffer>;
}

/** Opens a file where reading it last stopped (see decideResume). */
export async function openFrom(identity: FileIdentity, checkpoint: Checkpoint | null, whenNew: 'start' | 'end'): Promise<ResumedRead> {
  const decision = await decideResume(identity, checkpoint, whenNew);
  return { ...decision, chunks: content(identity, decision.resume.offset) };
}

// ---- Capturing a checkpoint ----

export function markOf(bytesBeforeOffset: Buffer): string {
  return createHash('sha256').update(bytesBeforeOffset).digest('hex');
}

/** The checkpoint of a file read up to `resume`, given the bytes just before that position. */
export function checkpointOf(
  file: { path: string; dev: number; ino: number },
  resume: { offset: number; line: number; head: Buffer },
  bytesBefore: Buffer,
): Checkpoint {
  return {
    path: file.path,
    dev: file.dev,
    ino: file.ino,
    head: resume.head.toString('base64'),
    offset: resume.offset,
    line: resume.line,
    mark: markOf(bytesBefore),
    updatedAt: new Date().toISOString(),
  };
}

/** The checkpoint of a file read up to `resume`: the position, with a hash of the MARK_BYTES before it. */
export async function captureCheckpoint(
  file: { path: string; dev: number; ino: number },
  resume: { offset: number; line: number; head: Buffer },
  read: ContentRange,
): Promise<Checkpoint> {
  const start = Math.max(0, resume.offset - MARK_BYTES);
  const before = resume.offset > start ? ((await read(start, resume.offset - start)) ?? Buffer.alloc(0)) : Buffer.alloc(0);
  return checkpointOf(file, resume, before);
}

// ---- Reading from a position ----

/**
 * Where reading "from the end" starts: at the last line's start (a last line still being written is read
 * whole once it ends), with its true line number, so that reports found later name the right line.
 */
export async function endOf(identity: FileIdentity): Promise<ResumePoint> {
  const lines = await countLines(identity.path, identity.size);
  return { offset: lines.lastLineStart, line: lines.count + 1, head: identity.head.subarray(0, HEAD_BYTES) };
}

async function countLines(path: string, size: number): Promise<{ count: number; lastLineStart: number }> {
  if (size === 0) return { count: 0, lastLineStart: 0 };
  let count = 0;
  let position = 0;
  let lastLineStart = 0;
  for await (const chunk of createReadStream(path, { end: size - 1, highWaterMark: CHUNK_BYTES })) {
    const bytes = chunk as Buffer;
    count += countByte(bytes, 0, bytes.length, LF);
    const lastNewline = bytes.lastIndexOf(LF);
    if (lastNewline !== -1) lastLineStart = position + lastNewline + 1;
    position += bytes.length;
  }
  return { count, lastLineStart };
}

function content(identity: FileIdentity, from: number): AsyncIterable<Buffer> {
  if (identity.gzip) return skipBytes(gunzipped(identity.path), from, identity.path);
  if (from >= identity.size) return (async function* () {})();
  return readChunks(createReadStream(identity.path, { start: from, end: identity.size - 1, highWaterMark: CHUNK_BYTES }), identity.path);
}

function gunzipped(path: string): Readable {
  return gunzipPipe(createReadStream(path, { highWaterMark: CHUNK_BYTES }));
}

async function gunzippedRange(path: string, start: number, end: number): Promise<Buffer | null> {
  const parts: Buffer[] = [];
  let position = 0;
  try {
    for await (const chunk of gunzipped(path)) {
      const bytes = chunk as Buffer;
      const from = Math.max(0, start - position);
      const to = Math.min(bytes.length, end - position);
      if (to > from) parts.push(bytes.subarray(from, to));
      position += bytes.length;
      if (position >= end) break;
    }
  } catch {
    return null;
  }
  return position >= end ? Buffer.concat(parts) : null;
}

async function* skipBytes(stream: Readable, skip: number, name: string): AsyncGenerator<Buffer> {
  let position = 0;
  for await (const chunk of readChunks(stream, name)) {
    const end = position + chunk.length;
    if (end > skip) yield position >= skip ? chunk : chunk.subarray(skip - position);
    position = end;
  }
}
