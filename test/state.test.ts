import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { StateWriteError, writeFileAtomic } from '../src/state/atomic-file.js';
import { StateCorruptError } from '../src/state/json-file.js';
import { loadState } from '../src/state/sink-state.js';

const dir = () => mkdtempSync(path.join(tmpdir(), 'racewatch-state-test-'));

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
