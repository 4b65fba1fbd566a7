import { describe, expect, it } from 'vitest';
import { allocateCountableBuffer } from '../src/bytes/count-byte.js';
import { LineSplitter, type LineFilter } from '../src/decoder/line-splitter.js';
import { seededRandom } from './support/seeded-random.js';
import { Needles } from '../src/bytes/needles.js';

interface Seen {
  text: string;
  line: number;
  offset: number;
  cut: boolean;
}

/** `reuse` copies each chunk into one buffer, as the file reader does, instead of passing a slice of `input`. */
function split(
  input: Buffer,
  chunkSize: number,
  maxLineBytes = 1024,
  options: { filter?: LineFilter; reuse?: Buffer } = {},
): { lines: Seen[]; cutLines: number } {
  const lines: Seen[] = [];
  const splitter = new LineSplitter(
    maxLineBytes,
    (bytes, start, end, line, offset, cut) => {
      lines.push({ text: bytes.toString('utf8', start, end), line, offset, cut });
    },
    undefined,
    options.filter,
  );
  for (let at = 0; at < input.length; at += chunkSize) {
    const piece = input.subarray(at, at + chunkSize);
    if (!options.reuse) splitter.push(piece);
    else {
      piece.copy(options.reuse);
      splitter.push(options.reuse.subarray(0, piece.length));
    }
  }
  splitter.end();
  return { lines, cutLines: splitter.cutLines };
}

const NEEDLE = Buffer.from('WARNING: DATA RACE');
const alwaysSkipping: LineFilter = { needles: new Needles([NEEDLE.toString()]), skipping: () => true };

/** Short lines, some empty, some with CR, some holding the needle (also at a line's very start). */
function randomLog(random: () => number, lineCount: number): Buffer {
  const lines: string[] = [];
  for (let i = 0; i < lineCount; i += 1) {
    const roll = random();
    if (roll < 0.05) lines.push('WARNING: DATA RACE');
    else if (roll < 0.08) lines.push(`prefix ${i} WARNING: DATA RACE\r`);
    else if (roll < 0.12) lines.push('');
    else lines.push('x'.repeat(Math.floor(random() * 120)));
  }
  return Buffer.from(lines.join('\n') + (random() < 0.5 ? '\n' : ''));
}

describe('LineSplitter', () => {
  const input = Buffer.from('first\r\nsecond line\n\nWARNING: DATA RACE\nlast without newline');

  it('gives every line with its 1-based number and byte offset, whatever the chunk boundaries', () => {
    const expected = split(input, input.length).lines;
    expect(expected).toEqual([
      { text: 'first', line: 1, offset: 0, cut: false },
      { text: 'second line', line: 2, offset: 7, cut: false },
      { text: '', line: 3, offset: 19, cut: false },
      { text: 'WARNING: DATA RACE', line: 4, offset: 20, cut: false },
      { text: 'last without newline', line: 5, offset: 39, cut: false },
    ]);
    for (let chunkSize = 1; chunkSize < input.length; chunkSize += 1) {
      expect(split(input, chunkSize).lines, `chunk size ${chunkSize}`).toEqual(expected);
    }
  });

  it('strips CR only when it ends the line', () => {
    const { lines } = split(Buffer.from('a\rb\r\n'), 3);
    expect(lines.map((l) => l.text)).toEqual(['a\rb']);
  });

  it('cuts a line longer than the cap to its first maxLineBytes bytes, flags it, and keeps the lines after it', () => {
    const huge = Buffer.alloc(5 * 1024 * 1024, 'x');
    const data = Buffer.concat([Buffer.from('before\n'), huge, Buffer.from('\nafter\n')]);
    for (const chunkSize of [4096, 1024 * 1024, data.length]) {
      const { lines, cutLines } = split(data, chunkSize, 64 * 1024);
      expect(lines.map((l) => [l.text.length, l.line, l.cut])).toEqual([
        [6, 1, false],
        [64 * 1024, 2, true],
        [5, 3, false],
      ]);
      expect(lines[2]!.offset).toBe(7 + huge.length + 1);
      expect(cutLines).toBe(1);
    }
  });

  it('cuts an over-long last line that never ends with a newline', () => {
    const data = Buffer.concat([Buffer.from('ok\n'), Buffer.alloc(300_000, 'y')]);
    const { lines } = split(data, 65536, 100_000);
    expect(lines.map((l) => [l.text.length, l.cut, l.offset])).toEqual([
      [2, false, 0],
      [100_000, true, 3],
    ]);
  });

  describe('with a filter that skips lines without the needle', () => {
    it('delivers every needle line, and only true lines, with the numbers and offsets an unfiltered split gives them', () => {
      const random = seededRandom(5);
      const key = (l: Seen) => JSON.stringify(l);
      for (let round = 0; round < 20; round += 1) {
        const input = randomLog(random, 400);
        const all = split(input, input.length).lines;
        const needleLines = all.filter((l) => l.text.includes('WARNING: DATA RACE'));
        expect(needleLines.length).toBeGreaterThan(0);
        for (const chunkSize of [1, 7, 16, 17, 100, 1000, 4096, input.length]) {
          for (const maxLineBytes of [1024, 4096]) {
            const reuse = allocateCountableBuffer(chunkSize);
            for (const options of [{ filter: alwaysSkipping }, { filter: alwaysSkipping, reuse }]) {
              const got = split(input, chunkSize, maxLineBytes, options).lines;
              const context = `round ${round}, chunk ${chunkSize}, cap ${maxLineBytes}, reused: ${Boolean(options.reuse)}`;
              // A line that crosses a chunk boundary is delivered whatever it holds; the reader checks it.
              const delivered = new Set(got.map(key));
              expect(
                needleLines.filter((l) => !delivered.has(key(l))),
                context,
              ).toEqual([]);
              const real = new Set(all.map(key));
              expect(
                got.filter((l) => !real.has(key(l))),
                context,
              ).toEqual([]);
              if (chunkSize >= 4096) expect(got.length, context).toBeLessThan(needleLines.length + input.length / chunkSize + 2);
            }
          }
        }
      }
    });

    it('still delivers and counts an over-long line, cut, when a chunk is larger than the cap', () => {
      const data = Buffer.from(`short\n${'y'.repeat(3000)}\nshort\nWARNING: DATA RACE\n`);
      for (const chunkSize of [data.length, 2048]) {
        const { lines, cutLines } = split(data, chunkSize, 1000, { filter: alwaysSkipping });
        expect(lines.map((l) => [l.text.length, l.line, l.cut])).toEqual([
          [1000, 2, true],
          [18, 4, false],
        ]);
        expect(cutLines).toBe(1);
      }
    });
  });
});
