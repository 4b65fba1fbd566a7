import { watch, type FSWatcher } from 'chokidar';

export interface FileEventHandlers {
  /** Bytes were written to this followed path (or its file was replaced: the caller checks which). */
  written(path: string): void;
  /** A followed path was deleted, renamed away or created again: the paths need listing. */
  moved(path: string): void;
  /** Every watcher error (see onWatchError for the inotify limit). */
  error(error: unknown): void;
}

/** chokidar's `_throttle(EV.CHANGE, path, 50)` in its index.js. */
const CHOKIDAR_CHANGE_THROTTLE_MS = 50;

/** What fs.watch answers when inotify has no watch (ENOSPC) or no instance or descriptor (EMFILE) left. */
const LIMIT_CODES = new Set(['ENOSPC', 'EMFILE']);

/** Raised once per watcher in place of every ENOSPC or EMFILE chokidar reports, one per file it could not watch. */
export class WatchLimitError extends Error {
  constructor(
    readonly code: string,
    cause: unknown,
  ) {
    const path = (cause as NodeJS.ErrnoException).path;
    super(
      `${code}: the inotify watch limit was reached${path ? ` at ${path}` : ''} (fs.inotify.max_user_watches` +
        `${code === 'EMFILE' ? ', fs.inotify.max_user_instances or the open file limit' : ''}): files past it get no file events, ` +
        'but the periodic checks still follow every file, each within RACEWATCH_RECONCILE_INTERVAL; raise the limit ' +
        '(sysctl fs.inotify.max_user_watches=...) or set RACEWATCH_WATCH=poll',
      { cause },
    );
    this.name = 'WatchLimitError';
  }
}

/**
 * Forwards watcher errors, but the inotify limit only once: past it, every further watch (of a file or a
 * directory) fails the same way.
 */
export function onWatchError(report: (error: unknown) => void): (error: unknown) => void {
  let limitReported = false;
  return (error) => {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    if (code === undefined || !LIMIT_CODES.has(code)) return report(error);
    if (limitReported) return;
    limitReported = true;
    report(new WatchLimitError(code, error));
  };
}

/**
 * inotify events for exactly the followed files, through chokidar. Files, not their directories: on a
 * directory event chokidar lists and lstats the whole directory, and again at once if more events came
 * meanwhile, so one busy log beside 1,000 quiet ones kept a core busy (measured: 130 %; 33 % with 20
 * files). New files are found by the follower's check of its directories' timestamps instead.
 */
export class FileEvents {
  private readonly watched = new Set<string>();
  private readonly trailing = new Map<string, NodeJS.Timeout>();

  private constructor(
    private readonly watcher: FSWatcher,
    private readonly handlers: FileEventHandlers,
  ) {
    watcher.on('all', (event, path) => (event === 'change' ? this.onWrite(path) : handlers.moved(path)));
  }

  static async start(paths: string[], handlers: FileEventHandlers): Promise<FileEvents> {
    const watcher = watch(paths, { ignoreInitial: true, alwaysStat: false });
    // Before 'ready': chokidar reports a watch it could not add (ENOSPC past fs.inotify.max_user_watches)
    // while it adds the first paths, and an 'error' with no listener is thrown, killing the process.
    watcher.on('error', handlers.error);
    // chokidar never says 'ready' when it starts with nothing to watch.
    if (paths.length > 0) await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
    const events = new FileEvents(watcher, handlers);
    for (const path of paths) events.watched.add(path);
    return events;
  }

  /** From now on, watch exactly these paths. */
  follow(paths: string[]): void {
    const wanted = new Set(paths);
    const added = paths.filter((path) => !this.watched.has(path));
    const gone = [...this.watched].filter((path) => !wanted.has(path));
    if (added.length > 0) this.watcher.add(added);
    if (gone.length > 0) this.watcher.unwatch(gone);
    for (const path of added) this.watched.add(path);
    for (const path of gone) this.watched.delete(path);
  }

  async close(): Promise<void> {
    for (const timer of this.trailing.values()) clearTimeout(timer);
    this.trailing.clear();
    await this.watcher.close();
  }

  /**
   * chokidar drops every further 'change' of a path for 50 ms after one and never reports it later: a
   * report's closing line written just after its body would wait for the next tick. So each write event
   * is followed by one more once that window is over.
   */
  private onWrite(path: string): void {
    this.handlers.written(path);
    if (this.trailing.has(path)) return;
    this.trailing.set(
      path,
      setTimeout(() => {
        this.trailing.delete(path);
        this.handlers.written(path);
      }, CHOKIDAR_CHANGE_THROTTLE_MS + 10),
    );
  }
}
