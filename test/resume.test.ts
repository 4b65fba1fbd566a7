import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { extractOptions } from '../src/cli/wiring.js';
import { loadSettings } from '../src/config/settings.js';
import { type Batch, Follower } from '../src/daemon/follower.js';
import { createLogger } from '../src/log/logger.js';
import { identify } from '../src/source/identity.js';
import { captureCheckpoint, CheckpointClaims, contentOfHandle, contentOfPath, decideResume, savedPositionProblem } from '../src/source/resume.js';
import type { Checkpoint } from '../src/state/checkpoints.js';
import { LIFETIMES } from './support/daemon.js';

const options = extractOptions(loadSettings({}, {}));
const logs = () => mkdtempSync(path.join(tmpdir(), 'racewatch-resume-'));

/** A file read to its end, and its checkpoint there. */
async function readToEnd(file: string, content: string): Promise<Checkpoint> {
  writeFileSync(file, content);
  const identity = await identify(file);
  return captureCheckpoint(identity, { offset: identity.size, line: content.split('\n').length, head: identity.head }, contentOfPath(identity));
}

describe('CheckpointClaims', () => {
  it('a whole listing: a copy listed before the original does not take its checkpoint', async () => {
    const dir = logs();
    const saved = await readToEnd(path.join(dir, 'b.log'), LIFETIMES[0]!);
    copyFileSync(path.join(dir, 'b.log'), path.join(dir, 'a.log'));
    const [copy, original] = [await identify(path.join(dir, 'a.log')), await identify(path.join(dir, 'b.log'))];
    const claims = new CheckpointClaims([saved]);
    const claimed = claims.claimAll([copy, original]);
    expect(claimed.get(copy)).toBeNull();
    expect(claimed.get(original)).toBe(saved);
    expect(claims.unclaimed).toEqual([]);
  });

  it('one file at a time (the daemon): the same answer as the whole listing, in either order', async () => {
    const dir = logs();
    const saved = await readToEnd(path.join(dir, 'b.log'), LIFETIMES[0]!);
    copyFileSync(path.join(dir, 'b.log'), path.join(dir, 'a.log'));
    const listing = [path.join(dir, 'a.log'), path.join(dir, 'b.log')];
    const [copy, original] = await Promise.all(listing.map((file) => identify(file)));
    const claims = new CheckpointClaims([saved]);
    expect(await claims.claim(copy!, listing)).toBeNull();
    expect(await claims.claim(original!, listing)).toBe(saved);
    const reversed = new CheckpointClaims([saved]);
    expect(await reversed.claim(original!, listing)).toBe(saved);
    expect(await reversed.claim(copy!, listing)).toBeNull();
  });

  it('copytruncate: the copy takes the checkpoint by content once the original starts with other bytes', async () => {
    const dir = logs();
    const saved = await readToEnd(path.join(dir, 'b.log'), LIFETIMES[0]!);
    copyFileSync(path.join(dir, 'b.log'), path.join(dir, 'a.log'));
    writeFileSync(path.join(dir, 'b.log'), LIFETIMES[1]!);
    const listing = [path.join(dir, 'a.log'), path.join(dir, 'b.log')];
    const [copy, original] = await Promise.all(listing.map((file) => identify(file)));
    expect(new CheckpointClaims([saved]).claimAll([copy!, original!]).get(copy!)).toBe(saved);
    const claims = new CheckpointClaims([saved]);
    expect(await claims.claim(copy!, listing)).toBe(saved);
    expect(await claims.claim(original!, listing)).toBeNull();
  });
});

describe('resume decision', () => {
  it('the rewrite check of an open file and the resume decision agree (one function, by path or through the handle)', async () => {
    const file = path.join(logs(), 'svc.log');
    const saved = await readToEnd(file, LIFETIMES[0]!);
    const handle = await open(file, 'r');
    try {
      expect(await savedPositionProblem(saved, LIFETIMES[0]!.length, contentOfHandle(handle))).toBeNull();
      expect((await decideResume(await identify(file), saved, 'start')).resume.offset).toBe(saved.offset);
      // Same size, one byte changed just before the saved position.
      writeFileSync(file, `${LIFETIMES[0]!.slice(0, -2)}X\n`);
      expect(await savedPositionProblem(saved, LIFETIMES[0]!.length, contentOfHandle(handle))).toBe('rewritten');
      const decision = await decideResume(await identify(file), saved, 'start');
      expect(decision.resume.offset).toBe(0);
      expect(decision.restartReason).toContain('the bytes before the saved position changed');
      writeFileSync(file, LIFETIMES[0]!.slice(0, 100));
      expect(await savedPositionProblem(saved, 100, contentOfHandle(handle))).toBe('truncated');
      expect((await decideResume(await identify(file), saved, 'start')).restartReason).toContain('shorter than the saved position');
    } finally {
      await handle.close();
    }
  });

  it('no checkpoint: from the start, or from the last line with whenNew end', async () => {
    const file = path.join(logs(), 'svc.log');
    writeFileSync(file, LIFETIMES[0]!);
    const identity = await identify(file);
    expect((await decideResume(identity, null, 'start')).resume.offset).toBe(0);
    expect((await decideResume(identity, null, 'end')).resume).toMatchObject({ offset: identity.size, line: LIFETIMES[0]!.split('\n').length });
  });
});

describe('Follower claims', () => {
  async function followOnce(dir: string, saved: Checkpoint[]): Promise<Batch[]> {
    const batches: Batch[] = [];
    const follower = new Follower(
      {
        specs: [path.join(dir, '*.log')],
        extract: options,
        mode: 'poll',
        reconcileMs: 3_600_000,
        reportTimeoutMs: 3_600_000,
        drainMs: 3_600_000,
        startAtEnd: false,
        maxOpenFiles: 64,
        saved,
        listedAt: null,
        log: createLogger('silent', process.stderr),
        onFailure: (error) => {
          throw error;
        },
      },
      async (batch) => {
        batches.push(batch);
      },
    );
    await follower.start();
    await follower.stop();
    return batches;
  }

  it('a copy listed before the original, both new to this daemon: the original keeps its checkpoint and is not read again', async () => {
    const dir = logs();
    writeFileSync(path.join(dir, 'b.log'), LIFETIMES[0]!);
    const first = await followOnce(dir, []);
    const saved = first.at(-1)!.checkpoints;
    expect(first.flatMap((batch) => batch.events).filter((event) => event.type === 'race')).toHaveLength(3);
    copyFileSync(path.join(dir, 'b.log'), path.join(dir, 'a.log'));
    const races = (await followOnce(dir, saved)).flatMap((batch) => batch.events).filter((event) => event.type === 'race');
    expect(races.filter((event) => event.occurrence.source === path.join(dir, 'b.log'))).toEqual([]);
  });
});
