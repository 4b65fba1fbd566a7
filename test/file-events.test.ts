// FileEvents' and DirectoryEvents' watcher errors, and what a directory watch reports. The real limit (a daemon past fs.inotify.max_user_watches) is a test in
// test/daemon.test.ts; here chokidar's error is emitted by hand, which runs on any machine.
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FSWatcher } from 'chokidar';
import { describe, expect, it } from 'vitest';
import type { FSWatcher as DirectoryWatcher } from 'node:fs';
import { DirectoryEvents } from '../src/daemon/directory-events.js';
import { FileEvents, onWatchError, WatchLimitError } from '../src/daemon/file-events.js';

const errno = (code: string, file: string) =>
  Object.assign(new Error(`${code}: System limit for number of file watchers reached, watch '${file}'`), { code, path: file, syscall: 'watch' });

describe('FileEvents', () => {
  it('reports the inotify limit once, naming fs.inotify.max_user_watches and RACEWATCH_WATCH=poll; other errors each time', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'racewatch-file-events-'));
    const file = path.join(dir, 'a.log');
    writeFileSync(file, '');
    const errors: unknown[] = [];
    const events = await FileEvents.start([file], { written: () => {}, moved: () => {}, error: onWatchError((error) => errors.push(error)) });
    try {
      const watcher = (events as unknown as { watcher: FSWatcher }).watcher;
      for (let i = 0; i < 5; i += 1) watcher.emit('error', errno('ENOSPC', path.join(dir, `f${i}.log`)));
      watcher.emit('error', errno('EMFILE', path.join(dir, 'g.log')));
      const other = Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
      watcher.emit('error', other);
      watcher.emit('error', other);
      expect(errors).toHaveLength(3);
      const limit = errors[0] as WatchLimitError;
      expect(limit).toBeInstanceOf(WatchLimitError);
      expect(limit.code).toBe('ENOSPC');
      expect(limit.message).toContain('inotify watch limit was reached');
      expect(limit.message).toContain('fs.inotify.max_user_watches');
      expect(limit.message).toContain('RACEWATCH_WATCH=poll');
      expect(limit.message).toContain('the periodic checks still follow every file');
      expect(errors.slice(1)).toEqual([other, other]);
    } finally {
      await events.close();
    }
  });

  it('file and directory watches share one reporter: the limit is said once for both', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'racewatch-file-events-'));
    const file = path.join(dir, 'a.log');
    writeFileSync(file, '');
    const errors: unknown[] = [];
    const report = onWatchError((error) => errors.push(error));
    const files = await FileEvents.start([file], { written: () => {}, moved: () => {}, error: report });
    const directories = DirectoryEvents.start(
      [dir],
      () => true,
      () => {},
      report,
    );
    try {
      (directories as unknown as { watchers: DirectoryWatcher[] }).watchers[0]!.emit('error', errno('ENOSPC', dir));
      (files as unknown as { watcher: FSWatcher }).watcher.emit('error', errno('ENOSPC', file));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(WatchLimitError);
    } finally {
      directories.close();
      await files.close();
    }
  });

  it('a directory watch says when a wanted name is created, renamed or deleted, and ignores writes and other names', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'racewatch-directory-events-'));
    const live = path.join(dir, 'svc.log');
    writeFileSync(live, '');
    let renamed = 0;
    const directories = DirectoryEvents.start(
      [dir],
      (name) => name.startsWith(live),
      () => (renamed += 1),
      (error) => {
        throw error;
      },
    );
    try {
      writeFileSync(live, 'written\n');
      writeFileSync(path.join(dir, 'other.log'), '');
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(renamed).toBe(0);
      renameSync(live, `${live}.1`);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(renamed).toBeGreaterThan(0);
    } finally {
      directories.close();
    }
  });
});
