// The open-descriptor budget of the daemon (src/daemon/handle-pool.ts) with real files and TrackedFile:
// which files give their descriptor back, how a dormant one comes back, what it answers while closed,
// and what happens at a real EMFILE (the soft limit of this test process lowered with prlimit).
import { execFileSync } from 'node:child_process';
import { appendFileSync, closeSync, fstatSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { extractOptions } from '../src/cli/wiring.js';
import { loadSettings } from '../src/config/settings.js';
import { defaultMaxOpenFiles, HandlePool, softOpenFileLimit } from '../src/daemon/handle-pool.js';
import { TrackedFile } from '../src/daemon/tracked-file.js';
import { createLogger } from '../src/log/logger.js';
import { LIFETIMES } from './support/daemon.js';

const options = extractOptions(loadSettings({}, {}));
const NOISE = '2026/11/23 06:00:00.000000 request served path=/api/v1/items/1\n';
const lines = LIFETIMES[0]!.split('\n');
const reportStart = lines.indexOf('WARNING: DATA RACE') - 1;
const reportEnd = lines.indexOf('==================', reportStart + 2);
const report = `${lines.slice(reportStart, reportEnd + 1).join('\n')}\n`;
const firstHalf = `${lines.slice(reportStart, reportEnd - 5).join('\n')}\n`;

let dir: string;
const followed: TrackedFile[] = [];
let clock = 0;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'racewatch-pool-'));
});
afterEach(async () => {
  for (const file of followed.splice(0)) await file.close();
});

function logFile(name: string, content = NOISE): string {
  const file = path.join(dir, name);
  writeFileSync(file, content);
  return file;
}

/** As the follower's `track` does: a descriptor from the pool, then a TrackedFile that holds it, read once. */
async function follow(pool: HandlePool, file: string): Promise<TrackedFile> {
  const handle = await pool.open(file);
  if (handle === null) throw new Error(`no descriptor for ${file}`);
  const info = fstatSync(handle.fd);
  const tracked = new TrackedFile(file, info.dev, info.ino, handle, options, { offset: 0, line: 1, head: Buffer.alloc(0) }, (clock += 1), pool);
  followed.push(tracked);
  await tracked.readAvailable((clock += 1));
  return tracked;
}

const races = (events: { type: string }[]) => events.filter((event) => event.type === 'race').length;

function capturedLogger(): { log: ReturnType<typeof createLogger>; lines: () => string[] } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { log: createLogger('info', stream), lines: () => text.split('\n').filter((line) => line.length > 0) };
}

describe('HandlePool', () => {
  it('keeps at most its budget open, closing the least recently written file first', async () => {
    const pool = new HandlePool(3);
    const files: TrackedFile[] = [];
    for (const name of ['a', 'b', 'c', 'd', 'e']) files.push(await follow(pool, logFile(`${name}.log`)));
    expect(files.map((file) => file.dormant)).toEqual([true, true, false, false, false]);
    expect(pool.openCount).toBe(3);

    // c written after d and e were opened: d is now the least recently used of the open ones.
    appendFileSync(files[2]!.path, NOISE);
    await files[2]!.readAvailable((clock += 1));
    await follow(pool, logFile('f.log'));
    expect(files.map((file) => file.dormant)).toEqual([true, true, false, true, false]);
    expect(pool.openCount).toBe(3);
  });

  it('a dormant file written again is reopened by device and inode and read on from where it stopped', async () => {
    const pool = new HandlePool(2);
    const a = await follow(pool, logFile('a.log'));
    await follow(pool, logFile('b.log'));
    const c = await follow(pool, logFile('c.log'));
    expect(a.dormant).toBe(true);
    // Unchanged: a stat of the path says so, and the file stays closed.
    expect(a.isQuiet()).toBe(true);
    expect(races((await a.readAvailable((clock += 1))).events)).toBe(0);
    expect(a.dormant).toBe(true);

    appendFileSync(a.path, report);
    expect(a.isQuiet()).toBe(false);
    const { events, restarted } = await a.readAvailable((clock += 1));
    expect(restarted).toBeNull();
    expect(races(events)).toBe(1);
    expect(a.dormant).toBe(false);
    expect(pool.openCount).toBe(2);
    // Read from its position, not again from byte 0: the report is found once.
    appendFileSync(a.path, NOISE);
    expect(races((await a.readAvailable((clock += 1))).events)).toBe(0);
    expect(c.dormant).toBe(false);
  });

  it('a dormant file keeps its last checkpoint without reopening; renamed, only the path in it changes', async () => {
    const pool = new HandlePool(1);
    const a = await follow(pool, logFile('a.log', `${NOISE}${report}${NOISE}`));
    const before = await a.checkpoint();
    await follow(pool, logFile('b.log'));
    expect(a.dormant).toBe(true);
    expect(await a.checkpoint()).toEqual(before);
    expect(a.dormant).toBe(true);

    renameSync(a.path, path.join(dir, 'a.log.1'));
    a.path = path.join(dir, 'a.log.1');
    expect(await a.checkpoint()).toEqual({ ...before, path: a.path });
    expect(a.dormant).toBe(true);
    expect(await a.isDeleted()).toBe(false);

    // Reopened at its new name, it goes on from its position.
    appendFileSync(a.path, report);
    const { events, restarted } = await a.readAvailable((clock += 1));
    expect(restarted).toBeNull();
    expect(races(events)).toBe(1);
    expect((await a.checkpoint()).offset).toBe(NOISE.length * 2 + report.length * 2);
  });

  it('a dormant file whose path now names another file reads nothing more and counts as deleted', async () => {
    const pool = new HandlePool(1);
    const a = await follow(pool, logFile('a.log'));
    await follow(pool, logFile('b.log'));
    const saved = await a.checkpoint();
    renameSync(a.path, path.join(dir, 'elsewhere'));
    writeFileSync(a.path, report);
    expect(a.isQuiet()).toBe(true);
    expect(await a.readAvailable((clock += 1))).toEqual({ events: [], restarted: null, changed: false });
    expect(a.dormant).toBe(true);
    expect(await a.isDeleted()).toBe(true);
    expect(await a.checkpoint()).toEqual(saved);
    expect(await a.close()).toEqual([]);
    expect(pool.openCount).toBe(1);
  });

  it('a file with a report open keeps its descriptor; the next least recently written one closes instead', async () => {
    const pool = new HandlePool(2);
    const a = await follow(pool, logFile('a.log', `${NOISE}${firstHalf}`));
    const b = await follow(pool, logFile('b.log'));
    const c = await follow(pool, logFile('c.log'));
    expect([a.dormant, b.dormant, c.dormant]).toEqual([false, true, false]);
  });

  it('a file its path no longer names keeps its descriptor: it is drained through it, as it could not be reopened', async () => {
    const pool = new HandlePool(1);
    const a = await follow(pool, logFile('a.log'));
    const rotated = path.join(dir, 'a.log.1');
    renameSync(a.path, rotated);
    writeFileSync(a.path, '');
    const b = await follow(pool, a.path);
    expect([a.dormant, b.dormant]).toEqual([false, false]);
    appendFileSync(rotated, report);
    expect(races((await a.readAvailable((clock += 1))).events)).toBe(1);
    // Found at its new name, it can close again.
    a.path = rotated;
    await follow(pool, logFile('c.log'));
    expect([a.dormant, b.dormant]).toEqual([true, true]);
  });

  it('at EMFILE closes more files and retries, then keeps below where it hit the limit; warns once, naming the setting', async () => {
    const names = Array.from({ length: 80 }, (_, n) => logFile(`f${n}.log`));
    const { log, lines: logged } = capturedLogger();
    const pool = new HandlePool(1000, log);
    const { log: emptyLog, lines: emptyLogged } = capturedLogger();
    const empty = new HandlePool(1000, emptyLog);
    const original = softOpenFileLimit();
    if (original === null) throw new Error('/proc/self/limits says no open file limit');
    const hard = /^Max open files\s+\S+\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))![1]!;
    const inUse = readdirSync('/proc/self/fd').length;
    const lowered = inUse + 40;
    const blockers: number[] = [];
    execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${lowered}:${hard}`], { stdio: 'ignore' });
    try {
      for (const name of names) await follow(pool, name);
      expect(pool.limit).toBeLessThan(40);
      expect(pool.openCount).toBeLessThanOrEqual(pool.limit);
      expect(followed.filter((file) => !file.dormant)).toHaveLength(pool.openCount);

      // Every descriptor taken by something else, and a pool with nothing to close: no throw, null.
      for (;;) {
        try {
          blockers.push(openSync('/dev/null', 'r'));
        } catch {
          break;
        }
      }
      expect(await empty.open(names[0]!)).toBeNull();
      expect(await empty.open(names[1]!)).toBeNull();
    } finally {
      for (const fd of blockers) closeSync(fd);
      for (const file of followed.splice(0)) await file.close();
      execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${original}:${hard}`], { stdio: 'ignore' });
    }
    expect(logged()).toHaveLength(1);
    expect(JSON.parse(logged()[0]!).msg).toMatch(
      new RegExp(
        `^EMFILE: the open file limit \\(${lowered}\\) was reached with \\d+ followed files open: from now on at most \\d+ are kept open; set RACEWATCH_MAX_OPEN_FILES lower`,
      ),
    );
    expect(emptyLogged()).toHaveLength(1);
    expect(JSON.parse(emptyLogged()[0]!).msg).toMatch(
      /^EMFILE: .* was reached with 0 followed files open: still after closing some, so .*f0\.log is read at a later check;/,
    );
  });
});

describe('defaultMaxOpenFiles', () => {
  it('is the soft limit of /proc/self/limits less 256, at least 16', () => {
    const limits = (soft: string) =>
      `Limit                     Soft Limit           Hard Limit           Units     \nMax open files            ${soft}                524288               files     \n`;
    expect(softOpenFileLimit(limits('1024'))).toBe(1024);
    expect(defaultMaxOpenFiles(softOpenFileLimit(limits('1024')))).toBe(768);
    expect(defaultMaxOpenFiles(softOpenFileLimit(limits('100')))).toBe(16);
    expect(softOpenFileLimit('no such line')).toBeNull();
    expect(defaultMaxOpenFiles(null)).toBe(768);
  });
});
