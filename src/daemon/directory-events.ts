import { type FSWatcher, watch } from 'node:fs';
import path from 'node:path';

/**
 * inotify on the directories of single-file paths, for names only: a path deleted and created again, a
 * symlink retargeted or a rename rotation shows at once instead of at the next directory check, so a file
 * that lives a few hundred milliseconds is opened before it goes. Node's fs.watch, not chokidar: chokidar
 * lists and stats the whole directory on each event (file-events.ts), this costs one name comparison. Writes
 * (`change`) are left to the file watches.
 */
export class DirectoryEvents {
  private readonly watchers: FSWatcher[] = [];

  private constructor() {}

  /** Calls `renamed` when a name `wanted` accepts is created, deleted or renamed in one of `directories`. */
  static start(directories: Iterable<string>, wanted: (file: string) => boolean, renamed: () => void, failed: (error: unknown) => void): DirectoryEvents {
    const events = new DirectoryEvents();
    for (const dir of new Set(directories)) {
      try {
        const watcher = watch(dir, { persistent: false }, (type, name) => {
          if (type === 'rename' && name !== null && wanted(path.join(dir, name))) renamed();
        });
        watcher.on('error', failed);
        events.watchers.push(watcher);
      } catch (error) {
        // A directory that is not there yet, or the inotify limit: the directory checks still cover it.
        failed(error);
      }
    }
    return events;
  }

  close(): void {
    for (const watcher of this.watchers) watcher.close();
    this.watchers.length = 0;
  }
}
