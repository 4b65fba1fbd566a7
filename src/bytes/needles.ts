/**
 * Where the next of several byte strings (the markers of every enabled format) begins in a buffer. Each
 * string's search result is kept for the buffer and reused while it still lies ahead, so asking again from
 * a later start (after each report, after each line) costs nothing until a string's last find is passed: a
 * string absent from a chunk is searched for once per chunk, not once per report. Readers reuse one buffer
 * for every chunk, so a new chunk must be announced with `forget`.
 */
export class Needles {
  private readonly needles: Buffer[];
  private buffer: Buffer | null = null;
  /** Per string: where its search last started, and what it found there (-1: nothing up to the end). */
  private readonly searchedFrom: number[];
  private readonly found: number[];

  constructor(strings: readonly string[]) {
    this.needles = [...new Set(strings)].map((text) => Buffer.from(text));
    this.searchedFrom = this.needles.map(() => -1);
    this.found = this.needles.map(() => -1);
  }

  forget(): void {
    this.buffer = null;
  }

  /** The first position at or after `start` where one of the strings begins, or -1. */
  next(bytes: Buffer, start: number): number {
    return this.nextMatch(bytes, start)?.at ?? -1;
  }

  /** Whether one of the strings lies wholly within `bytes[start, end)`. */
  within(bytes: Buffer, start: number, end: number): boolean {
    const match = this.nextMatch(bytes, start);
    return match !== null && match.at + match.length <= end;
  }

  private nextMatch(bytes: Buffer, start: number): { at: number; length: number } | null {
    if (bytes !== this.buffer) {
      this.buffer = bytes;
      this.searchedFrom.fill(-1);
    }
    let best: { at: number; length: number } | null = null;
    for (const [i, needle] of this.needles.entries()) {
      const cached = this.searchedFrom[i]! !== -1 && this.searchedFrom[i]! <= start && (this.found[i] === -1 || this.found[i]! >= start);
      if (!cached) {
        this.searchedFrom[i] = start;
        this.found[i] = bytes.indexOf(needle, start);
      }
      const at = this.found[i]!;
      if (at !== -1 && (best === null || at < best.at)) best = { at, length: needle.length };
    }
    return best;
  }
}
