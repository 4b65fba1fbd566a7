import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { StateWriteError, writeFileAtomic } from '../src/state/atomic-file.js';
import { StateCorruptError } from '../src/state/json-file.js';
import { unidentifiedReportKey } from '../parsers/go-race/key.js';
import { loadState } from '../src/state/sink-state.js';

const dir = () => mkdtempSync(path.join(tmpdir(), 'racewatch-state-test-'));

// Lets a test stop a write at the moment between the temporary file being complete and its rename, as a crash would.
const atRename = vi.hoisted(() => ({ fail: null as null | ((from: string, to: string) => Error) }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  const rename: typeof actual.rename = async (from, to) => {
    const fail = atRename.fail;
    if (fail) throw fail(String(from), String(to));
    return actual.rename(from, to);
  };
  return { ...actual, rename, default: { ...actual, rename } };
});
afterEach(() => {
  atRename.fail = null;
});

/**
 * Reads `file` in a tight loop on another thread while the test writes it, and reports every read that
 * was not one whole version (`size` bytes of one letter).
 */
function startReader(file: string, size: number): { ready: Promise<void>; stop: () => Promise<{ reads: number; badReads: number; bad: string[] }> } {
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
    const { readFileSync } = require('node:fs');
    const stop = new Int32Array(workerData.stop);
    let reads = 0;
    let badReads = 0;
    const bad = [];
    const note = (what) => (badReads += 1) <= 5 && bad.push(what);
    while (Atomics.load(stop, 0) === 0) {
      let text;
      try {
        text = readFileSync(workerData.file, 'latin1');
      } catch (error) {
        note('read failed: ' + error.code);
        continue;
      }
      reads += 1;
      if (reads === 1) parentPort.postMessage('ready');
      if (text.length !== workerData.size || text[0] !== text[text.length - 1]) note('saw ' + text.length + ' bytes');
    }
    parentPort.postMessage({ reads, badReads, bad });`,
    { eval: true, workerData: { file, size, stop: stop.buffer } },
  );
  const messages: unknown[] = [];
  let onMessage = () => {};
  worker.on('message', (message) => {
    messages.push(message);
    onMessage();
  });
  const next = (count: number) =>
    new Promise<void>((resolve, reject) => {
      worker.once('error', reject);
      onMessage = () => messages.length >= count && resolve();
      onMessage();
    });
  return {
    ready: next(1),
    stop: async () => {
      Atomics.store(stop, 0, 1);
      await next(2);
      await worker.terminate();
      return messages[1] as { reads: number; badReads: number; bad: string[] };
    },
  };
}

describe('state files', () => {
  it('a state file written before a field existed upgrades itself on load', async () => {
    const file = path.join(dir(), 'gitlab-soak_svc.json');
    const older = {
      schema: 1,
      project: 'soak/svc',
      issues: { 'gorace-v1:ab': { iid: 3, webUrl: 'u', lastCommentAt: null } },
      pending: [],
      delivered: { x: '2026-11-23T06:00:00.000Z' },
    };
    writeFileSync(file, JSON.stringify(older));
    const state = await loadState(file, 'soak/svc');
    expect(state.inflight).toBeNull();
    expect(state.issues['gorace-v1:ab']!.iid).toBe(3);
    expect(state.delivered.x).toBe('2026-11-23T06:00:00.000Z');
  });

  it('a schema 2 state (racewatch 0.1) upgrades to schema 3: its sightings keep their key, one without frames gets its own', async () => {
    const file = path.join(dir(), 'gitlab-soak_svc.json');
    const sighting = (id: string, fingerprint: string, sides: string[][], text: string) => ({
      id,
      fingerprint,
      title: 't',
      sides,
      host: 'h',
      source: 's',
      line: 1,
      seenAt: '2026-11-23T06:00:00.000Z',
      truncated: false,
      text,
      racingFrames: [],
      creationSites: [],
    });
    const older = {
      schema: 2,
      project: 'soak/svc',
      issues: { 'gorace-v1:ab': { iid: 3, webUrl: 'u', lastCommentAt: null } },
      pending: [
        sighting('a', 'gorace-v1:ab', [['pkg.A'], ['pkg.B']], 'report a'),
        sighting('b', 'gorace-v1:cd', [['(stack lost)'], ['pkg.A']], 'report b'),
        sighting('c', 'gorace-v1:ef', [['(access not printed)'], ['(access not printed)']], 'report c'),
      ],
      delivered: {},
      inflight: null,
      settling: [{ fingerprint: 'gorace-v1:ab', iid: 3 }],
    };
    writeFileSync(file, JSON.stringify(older));
    const state = await loadState(file, 'soak/svc');
    expect(state.schema).toBe(3);
    expect(state.pending.map(({ id, fingerprint, kind, keys, formerShared }) => ({ id, fingerprint, kind, keys, formerShared }))).toEqual([
      { id: 'a', fingerprint: 'gorace-v1:ab', kind: 'complete', keys: ['gorace-v1:ab'], formerShared: [] },
      { id: 'b', fingerprint: 'gorace-v1:cd', kind: 'half', keys: ['gorace-v1:cd'], formerShared: [] },
      {
        id: 'c',
        fingerprint: unidentifiedReportKey('report c'),
        kind: 'incomplete',
        keys: [unidentifiedReportKey('report c')],
        formerShared: ['gorace-v1:ef'],
      },
    ]);
    expect(state.settling).toEqual([{ fingerprint: 'gorace-v1:ab', keys: ['gorace-v1:ab'], iid: 3 }]);
    expect(state.unlinked).toEqual([]);
    expect(state.issues['gorace-v1:ab']!.iid).toBe(3);
  });

  it('a state file from a newer racewatch is refused, not misread', async () => {
    const file = path.join(dir(), 'gitlab-soak_svc.json');
    writeFileSync(file, JSON.stringify({ schema: 99 }));
    await expect(loadState(file, 'soak/svc')).rejects.toThrow(/written by a newer racewatch \(schema 99/);
  });

  it('an empty or torn state file is reported by name and never read as empty state', async () => {
    const file = path.join(dir(), 'gitlab-soak_svc.json');
    writeFileSync(file, '');
    await expect(loadState(file, 'soak/svc')).rejects.toThrow(StateCorruptError);
    writeFileSync(file, '{"schema":1,"project":"soak/svc","iss');
    await expect(loadState(file, 'soak/svc')).rejects.toThrow(new RegExp(`${file}.*not valid JSON`));
  });

  it('an atomic write that fails leaves the previous content and no temporary file behind', async () => {
    const folder = dir();
    const file = path.join(folder, 'files.json');
    writeFileSync(file, 'previous');
    await writeFileAtomic(file, 'next');
    expect(readFileSync(file, 'utf8')).toBe('next');
    const blocked = path.join(folder, 'blocked.json');
    mkdirSync(path.join(blocked, 'inside'), { recursive: true });
    await expect(writeFileAtomic(blocked, 'x')).rejects.toThrow(StateWriteError);
    expect(readdirSync(folder).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    expect(readFileSync(file, 'utf8')).toBe('next');
  });
});

describe('atomic state writes', () => {
  it('replace the file by a rename of a new one beside it: the inode changes and no temporary file remains', async () => {
    const folder = dir();
    const file = path.join(folder, 'state.json');
    writeFileSync(file, 'previous');
    const before = statSync(file).ino;
    await writeFileAtomic(file, 'next');
    expect(readFileSync(file, 'utf8')).toBe('next');
    expect(statSync(file).ino, 'the old file was overwritten in place, not replaced').not.toBe(before);
    expect(readdirSync(folder)).toEqual(['state.json']);
  });

  it('a crash between the complete temporary file and the rename leaves the previous content', async () => {
    const folder = dir();
    const file = path.join(folder, 'state.json');
    writeFileSync(file, 'previous');
    let seen: { temporary: string; sameDirectory: boolean; target: string } | null = null;
    atRename.fail = (from, to) => {
      seen = { temporary: readFileSync(from, 'utf8'), sameDirectory: path.dirname(from) === path.dirname(to), target: readFileSync(to, 'utf8') };
      return Object.assign(new Error('simulated crash before rename'), { code: 'EIO' });
    };
    await expect(writeFileAtomic(file, 'next')).rejects.toThrow(StateWriteError);
    // The new content was whole (and beside the file, so the rename cannot cross file systems) before the old was touched.
    expect(seen, 'the write never went through a rename').toEqual({ temporary: 'next', sameDirectory: true, target: 'previous' });
    expect(readFileSync(file, 'utf8')).toBe('previous');
    expect(readdirSync(folder)).toEqual(['state.json']);
  });

  it('a reader polling the file during many writes only ever sees one whole version', async () => {
    const size = 1024 * 1024;
    const file = path.join(dir(), 'state.json');
    writeFileSync(file, 'a'.repeat(size));
    const reader = startReader(file, size);
    await reader.ready;
    for (let round = 0; round < 24; round += 1) await writeFileAtomic(file, String.fromCharCode(98 + round).repeat(size));
    const { reads, badReads, bad } = await reader.stop();
    expect(reads).toBeGreaterThan(24);
    expect(bad, `${badReads} of ${reads} reads saw a partial or missing file (the first 5 shown)`).toEqual([]);
    expect(existsSync(file)).toBe(true);
  });
});
