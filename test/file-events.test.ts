// FileEvents' watcher errors. The real limit (a daemon past fs.inotify.max_user_watches) is a test in
// test/daemon.test.ts; here chokidar's error is emitted by hand, which runs on any machine.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FSWatcher } from 'chokidar';
import { describe, expect, it } from 'vitest';
import { FileEvents, WatchLimitError } from '../src/daemon/file-events.js';

const errno = (code: string, file: string) =>
  Object.assign(new Error(`${code}: System limit for number of file watchers reached, watch '${file}'`), { code, path: file, syscall: 'watch' });

describe('FileEvents', () => {
  it('reports the inotify limit once, naming fs.inotify.max_user_watches and RACEWATCH_WATCH=poll; other errors each time', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'racewatch-file-events-'));
    const file = path.join(dir, 'a.log');
    writeFileSync(file, '');
    const errors: unknown[] = [];
    const events = await FileEvents.start([file], { written: () => {}, moved: () => {}, error: (error) => errors.push(error) });
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
});
