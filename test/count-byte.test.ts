import { describe, expect, it } from 'vitest';
import { allocateCountableBuffer, countByte } from '../src/bytes/count-byte.js';
import { seededRandom } from './support/seeded-random.js';

function naiveCount(bytes: Uint8Array, start: number, end: number, byte: number): number {
  let count = 0;
  for (let i = start; i < end; i += 1) if (bytes[i] === byte) count += 1;
  return count;
}

/** Random bytes where the counted value is common, so every 16-byte step and tail holds some. */
function randomBytes(random: () => number, length: number, into?: Buffer): Buffer {
  const bytes = into ?? Buffer.alloc(length);
  for (let i = 0; i < length; i += 1) bytes[i] = random() < 0.3 ? 0x0a : Math.floor(random() * 256);
  return bytes;
}

describe('countByte', () => {
  it('counts like a byte-by-byte loop for every start and end, across 16-byte steps and tails', () => {
    const random = seededRandom(11);
    const bytes = randomBytes(random, 80);
    for (let start = 0; start <= bytes.length; start += 1) {
      for (let end = start; end <= bytes.length; end += 1) {
        expect(countByte(bytes, start, end, 0x0a), `[${start}, ${end})`).toBe(naiveCount(bytes, start, end, 0x0a));
      }
    }
  });

  it('counts a buffer of its own memory in place, including a view that starts inside it', () => {
    const random = seededRandom(12);
    const buffer = randomBytes(random, 1000, allocateCountableBuffer(1000));
    const view = buffer.subarray(13, 900);
    expect(countByte(buffer, 0, 1000, 0x0a)).toBe(naiveCount(buffer, 0, 1000, 0x0a));
    expect(countByte(view, 5, 800, 0x0a)).toBe(naiveCount(view, 5, 800, 0x0a));
    expect(countByte(buffer, 0, 1000, 0xff)).toBe(naiveCount(buffer, 0, 1000, 0xff));
  });

  it('counts a foreign buffer larger than its scratch memory, piece by piece', () => {
    const random = seededRandom(13);
    const bytes = randomBytes(random, 300_001);
    expect(countByte(bytes, 0, bytes.length, 0x0a)).toBe(naiveCount(bytes, 0, bytes.length, 0x0a));
    expect(countByte(bytes, 65_530, 200_003, 0x0a)).toBe(naiveCount(bytes, 65_530, 200_003, 0x0a));
  });
});
