import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { countByte } from '../bytes/count-byte.js';
import { HEAD_BYTES, type ResumePoint } from '../pipeline/extract.js';
import { type Checkpoint, MARK_BYTES, markOf } from '../state/checkpoints.js';
import type { FileIdentity } from './identity.js';
import { readRange } from './identity.js';
import { gunzipPipe, readChunks } from './streams.js';

const CHUNK_BYTES = 1024 * 1024;
const LF = 0x0a;

export interface ResumedRead {
  resume: ResumePoint;
  /** The content from the resume point to the size seen when the file was identified (never beyond). */
  chunks: AsyncIterable<Buffer>;
  /** Why a saved position could not be used and the file is read from its start; null when it was used. */
  restartReason: string | null;
}

/**
 * Opens a file where reading it last stopped. A saved position is used only if the bytes just before it are
 * still the bytes that were there: otherwise the file was truncated or rewritten and is read from its start.
 */
export async function openFrom(identity: FileIdentity, checkpoint: Checkpoint | null, startAtEnd: boolean): Promise<ResumedRead> {
  const fresh = { offset: 0, line: 1, head: identity.head };
  if (!checkpoint) {
    if (startAtEnd && !identity.gzip) return fromEnd(identity);
    return { resume: fresh, chunks: content(identity, 0), restartReason: null };
  }
  const problem = await resumeProblem(identity, checkpoint);
  if (problem) return { resume: fresh, chunks: content(identity, 0), restartReason: problem };
  const resume = { offset: checkpoint.offset, line: checkpoint.line, head: Buffer.from(checkpoint.head, 'base64') };
  return { resume, chunks: content(identity, checkpoint.offset), restartReason: null };
}

export async function resumeProblem(identity: FileIdentity, checkpoint: Checkpoint): Promise<string | null> {
  const markStart = Math.max(0, checkpoint.offset - MARK_BYTES);
  const before = identity.gzip
    ? await gunzippedRange(identity.path, markStart, checkpoint.offset)
    : checkpoint.offset > identity.size
      ? null
      : await readRange(identity.path, markStart, checkpoint.offset - markStart);
  if (before === null || before.length < checkpoint.offset - markStart) return 'the file is shorter than the saved position (truncated)';
  if (markOf(before) !== checkpoint.mark) return 'the bytes before the saved position changed (truncated and rewritten)';
  return null;
}

async function fromEnd(identity: FileIdentity): Promise<ResumedRead> {
  const resume = await endOf(identity);
  return { resume, chunks: content(identity, resume.offset), restartReason: null };
}

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

export async function gunzippedRange(path: string, start: number, end: number): Promise<Buffer | null> {
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
