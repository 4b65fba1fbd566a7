import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../src/decoder/line-splitter.js';

interface Seen {
  text: string;
  line: number;
  offset: number;
  cut: boolean;
}

function split(input: Buffer, chunkSize: number, maxLineBytes = 1024): { lines: Seen[]; cutLines: number } {
  const lines: Seen[] = [];
  const splitter = new LineSplitter(maxLineBytes, (bytes, start, end, line, offset, cut) => {
    lines.push({ text: bytes.toString('utf8', start, end), line, offset, cut });
  });
  for (let at = 0; at < input.length; at += chunkSize) splitter.push(input.subarray(at, at + chunkSize));
  splitter.end();
  return { lines, cutLines: splitter.cutLines };
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
});
