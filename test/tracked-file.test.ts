import { appendFileSync, mkdtempSync, statSync, writeFileSync, writeSync, openSync, closeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { extractOptions } from '../src/cli/wiring.js';
import { loadSettings } from '../src/config/settings.js';
import { TrackedFile } from '../src/daemon/tracked-file.js';
import { LIFETIMES } from './support/daemon.js';

const options = extractOptions(loadSettings({}, {}));
const opened: TrackedFile[] = [];
afterEach(async () => {
  for (const file of opened.splice(0)) await file.close();
});

async function follow(content: string): Promise<{ file: string; tracked: TrackedFile }> {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'racewatch-tracked-')), 'soakd.log');
  writeFileSync(file, content);
  const info = statSync(file);
  const tracked = new TrackedFile(file, info.dev, info.ino, await open(file, 'r'), options, { offset: 0, line: 1, head: Buffer.alloc(0) }, 0);
  opened.push(tracked);
  return { file, tracked };
}

const lines = LIFETIMES[0]!.split('\n');
const reportStart = lines.indexOf('WARNING: DATA RACE') - 1;
const reportEnd = lines.indexOf('==================', reportStart + 2);
const before = `${lines.slice(0, reportStart).join('\n')}\n`;
const firstHalf = `${lines.slice(reportStart, reportEnd - 5).join('\n')}\n`;
const secondHalf = `${lines.slice(reportEnd - 5, reportEnd + 1).join('\n')}\n`;

describe('TrackedFile', () => {
  it('appends read between two position saves are not taken for a rewrite', async () => {
    const { file, tracked } = await follow(before);
    await tracked.readAvailable(1);
    await tracked.checkpoint();
    for (let i = 0; i < 3; i += 1) {
      appendFileSync(file, `2026/11/23 06:00:0${i}.000000 request served path=/api/v1/items/${i}\n`);
      expect((await tracked.readAvailable(2 + i)).restarted).toBeNull();
    }
  });

  it('a report still open when the position was saved is completed by later appends, not re-read from byte 0', async () => {
    const { file, tracked } = await follow(before);
    await tracked.readAvailable(1);
    await tracked.checkpoint();
    appendFileSync(file, firstHalf);
    expect((await tracked.readAvailable(1)).events).toEqual([]);
    await tracked.checkpoint();
    appendFileSync(file, 'an unrelated line in between\n');
    expect((await tracked.readAvailable(2)).restarted).toBeNull();
    appendFileSync(file, secondHalf);
    const { events, restarted } = await tracked.readAvailable(3);
    expect(restarted).toBeNull();
    expect(events.filter((event) => event.type === 'race')).toHaveLength(1);
  });

  it('bytes before the saved position changed in place (same size, then appends): read again from the start', async () => {
    const { file, tracked } = await follow(before);
    await tracked.readAvailable(1);
    await tracked.checkpoint();
    const fd = openSync(file, 'r+');
    writeSync(fd, 'X'.repeat(40), 0);
    closeSync(fd);
    appendFileSync(file, 'a line after the rewrite\n');
    expect((await tracked.readAvailable(2)).restarted).toBe('rewritten in place');
  });
});
