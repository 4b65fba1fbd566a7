import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { StateWriter } from '../src/state/state-writer.js';

const fileIn = () => path.join(mkdtempSync(path.join(tmpdir(), 'racewatch-writer-')), 'state.json');

describe('the one writer of a state file', () => {
  it('saves requested from many places at once never put an older snapshot over a newer one', async () => {
    const file = fileIn();
    let version = 0;
    const writer = new StateWriter(file, () => JSON.stringify({ version }));
    const onDisk: Array<{ asked: number; found: number }> = [];
    const saves: Array<Promise<void>> = [];
    for (let round = 0; round < 50; round += 1) {
      version += 1;
      const asked = version;
      const found = () => (JSON.parse(readFileSync(file, 'utf8')) as { version: number }).version;
      saves.push(writer.save().then(() => void onDisk.push({ asked, found: found() })));
    }
    await Promise.all(saves);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ version: 50 });
    for (const { asked, found } of onDisk) expect(found).toBeGreaterThanOrEqual(asked);
    const seen = onDisk.map((entry) => entry.found);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
  });

  it('a save resolves only once a write that began after it asked is on disk', async () => {
    const file = fileIn();
    let value = 'first';
    const writer = new StateWriter(file, () => value);
    const first = writer.save();
    value = 'second';
    const second = writer.save();
    value = 'third';
    const third = writer.save();
    await second;
    expect(readFileSync(file, 'utf8')).toBe('third');
    await Promise.all([first, third]);
  });

  it('a failed write rejects its callers, and the next save writes again', async () => {
    const file = fileIn();
    const writer = new StateWriter(file, () => 'content');
    rmSync(path.dirname(file), { recursive: true });
    await expect(writer.save()).rejects.toThrow(/cannot save state/);
    await fs.mkdir(path.dirname(file));
    await writer.save();
    expect(readFileSync(file, 'utf8')).toBe('content');
  });

  it('after close nothing is written any more', async () => {
    const file = fileIn();
    let value = 'last';
    const writer = new StateWriter(file, () => value);
    await writer.close();
    value = 'after';
    await expect(writer.save()).rejects.toThrow(/closed/);
    expect(readFileSync(file, 'utf8')).toBe('last');
  });
});
