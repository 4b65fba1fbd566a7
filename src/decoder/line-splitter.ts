import { countByte } from '../bytes/count-byte.js';
import type { Needles } from '../bytes/needles.js';

/**
 * Splits a byte stream into lines without ever holding more than one capped line: a line longer than
 * `maxLineBytes` is delivered cut at the cap (flagged), and the rest of it is skipped, so a 50 MB line
 * costs no more memory than a short one. split2 cannot do this: with maxLength it errors or drops the line.
 */
export interface LineSink {
  /**
   * `bytes[start, end)` is the line without its LF (and without a CR before it). The buffer is only valid
   * during the call. `offset` is the byte offset of the line's first byte in the stream.
   */
  (bytes: Buffer, start: number, end: number, lineNumber: number, offset: number, cut: boolean): void;
}

/** Lets a reader that only cares about some lines skip the rest as bytes (counted, never decoded). */
export interface LineFilter {
  /** While true, lines holding none of `needles` are skipped, except those that cross a chunk boundary. */
  skipping(): boolean;
  needles: Needles;
}

const LF = 0x0a;
const CR = 0x0d;

export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private pendingCut = false;
  private lineNumber: number;
  private lineOffset: number;
  private streamOffset: number;
  cutLines = 0;

  /** `start` resumes a stream part-way: the offset and line number of the first byte pushed. */
  constructor(
    private readonly maxLineBytes: number,
    private readonly sink: LineSink,
    start: { offset: number; line: number } = { offset: 0, line: 1 },
    private readonly filter?: LineFilter,
  ) {
    this.streamOffset = start.offset;
    this.lineOffset = start.offset;
    this.lineNumber = start.line;
  }

  /** Offset just past the last byte pushed. */
  get bytesRead(): number {
    return this.streamOffset;
  }

  /** Where the next line starts: the offset and number of the first line not yet delivered. */
  get nextLine(): { offset: number; line: number } {
    return { offset: this.pendingBytes > 0 || this.pendingCut ? this.lineOffset : this.streamOffset, line: this.lineNumber };
  }

  push(chunk: Buffer): void {
    let start = 0;
    if (this.pendingBytes > 0 || this.pendingCut) {
      const newline = chunk.indexOf(LF);
      if (newline === -1) {
        this.hold(chunk, 0, chunk.length);
        this.streamOffset += chunk.length;
        return;
      }
      this.hold(chunk, 0, newline);
      this.emitPending();
      start = newline + 1;
    }
    while (start < chunk.length) {
      if (this.filter?.skipping()) start = this.skipLines(chunk, start);
      const newline = chunk.indexOf(LF, start);
      if (newline === -1) break;
      this.emit(chunk, start, newline);
      start = newline + 1;
    }
    if (start < chunk.length) this.hold(chunk, start, chunk.length);
    this.streamOffset += chunk.length;
  }

  /**
   * Counts, without delivering, the complete lines before the next line holding one of the filter's needles (or
   * all complete lines when there is none); over-long lines are still delivered, flagged cut.
   * Returns where delivering resumes.
   */
  private skipLines(chunk: Buffer, start: number): number {
    const needleAt = this.filter!.needles.next(chunk, start);
    const stop = needleAt === -1 ? chunk.lastIndexOf(LF) + 1 : chunk.lastIndexOf(LF, needleAt) + 1;
    if (chunk.length <= this.maxLineBytes) {
      // No complete line of this chunk can be over-long, so only their number matters.
      this.lineNumber += countByte(chunk, start, stop, LF);
      return stop;
    }
    let lineStart = start;
    for (let newline = chunk.indexOf(LF, start); newline !== -1 && newline < stop; newline = chunk.indexOf(LF, lineStart)) {
      if (newline - lineStart > this.maxLineBytes) this.emit(chunk, lineStart, newline);
      else this.lineNumber += 1;
      lineStart = newline + 1;
    }
    return lineStart;
  }

  /** The stream ended: a last line without LF is still a line. */
  end(): void {
    if (this.pendingBytes > 0 || this.pendingCut) this.emitPending();
  }

  private emit(chunk: Buffer, start: number, end: number): void {
    const offset = this.streamOffset + start;
    const length = end - start;
    const cut = length > this.maxLineBytes;
    const stop = cut ? start + this.maxLineBytes : end;
    this.deliver(chunk, start, stop, offset, cut);
  }

  private hold(chunk: Buffer, start: number, end: number): void {
    if (this.pendingBytes === 0 && !this.pendingCut) this.lineOffset = this.streamOffset + start;
    const room = this.maxLineBytes - this.pendingBytes;
    const take = Math.min(room, end - start);
    if (take > 0) {
      this.pending.push(Buffer.from(chunk.subarray(start, start + take)));
      this.pendingBytes += take;
    }
    if (end - start > take) this.pendingCut = true;
  }

  private emitPending(): void {
    const line = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    const offset = this.lineOffset;
    this.deliver(line, 0, line.length, offset, this.pendingCut);
    this.pending = [];
    this.pendingBytes = 0;
    this.pendingCut = false;
  }

  private deliver(bytes: Buffer, start: number, end: number, offset: number, cut: boolean): void {
    if (cut) this.cutLines += 1;
    const stop = !cut && end > start && bytes[end - 1] === CR ? end - 1 : end;
    this.sink(bytes, start, stop, this.lineNumber, offset, cut);
    this.lineNumber += 1;
  }
}
