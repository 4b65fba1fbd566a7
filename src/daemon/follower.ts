import { statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import picomatch from 'picomatch';
import type { Logger } from '../log/logger.js';
import type { ExtractEvent, ExtractOptions, ResumePoint } from '../pipeline/extract.js';
import type { Checkpoint } from '../state/checkpoints.js';
import { expandPaths } from '../source/expand.js';
import { type FileIdentity, identifyOpen } from '../source/identity.js';
import { CheckpointClaims, decideResume } from '../source/resume.js';
import { counts } from '../observability/metrics.js';
import { FileEvents } from './file-events.js';
import { HandlePool } from './handle-pool.js';
import { fileKey, TrackedFile } from './tracked-file.js';

export interface FollowerOptions {
  specs: string[];
  extract: ExtractOptions;
  /** 'events': inotify on each followed file plus the periodic checks; 'poll': the periodic checks alone (NFS, inotify limits). */
  mode: 'events' | 'poll';
  /** How often every followed file is stat'ed, whatever the events say. */
  reconcileMs: number;
  reportTimeoutMs: number;
  /** A file gone from the followed paths is still read this long (a writer may still hold it), then closed. */
  drainMs: number;
  /** Files already there at start with no saved position are read from their end. */
  startAtEnd: boolean;
  /** At most this many followed files hold a descriptor; the least recently written wait closed (handle-pool.ts). */
  maxOpenFiles: number;
  saved: Checkpoint[];
  log: Logger;
  /** A pass failed in a way following cannot go on from (the state can no longer be saved): stop. */
  onFailure: (error: unknown) => void;
  now?: () => number;
}

/**
 * How much a pass looks at, cheapest first. `probe`: a one-byte read past the end of each open file (did
 * it grow?). `verify`: an fstat of each open file (truncated, rewritten in place?) and closing files gone
 * from the followed paths for the drain time. `list`: the followed paths are listed first (new, renamed
 * and deleted files), then as `verify`.
 */
type PassKind = 'probe' | 'verify' | 'list';
const PASS_RANK: Record<PassKind, number> = { probe: 0, verify: 1, list: 2 };

/** Every this many ticks a `verify` pass. */
const VERIFY_EVERY = 15;
/** Every this many ticks a `list` pass whatever the directories show (coarse timestamps, lost events). */
const LIST_EVERY = 150;
/**
 * Positions that moved without any report are saved at most this often (and when stopping): a busy log
 * moves them on every write, and each save fsyncs the positions of every followed file. Losing them costs
 * only a re-read of lines already known to hold no report.
 */
const QUIET_SAVE_MS = 5_000;

export interface Batch {
  events: ExtractEvent[];
  checkpoints: Checkpoint[];
}

/**
 * Follows log files through appends, rotation, truncation and deletion. Each pass (see PassKind) reads what
 * is new in the open files and hands the events and the positions to save to `onBatch`, which must make
 * the events durable before it resolves: positions only move after that.
 */
export class Follower {
  private readonly files = new Map<string, TrackedFile>();
  private readonly compressed = new Set<string>();
  private retired: ExtractEvent[] = [];
  /** Which file each path had when this pass began: the lineage a rotated report continues along. */
  private pathsBefore = new Map<string, TrackedFile>();
  /** The saved checkpoints not yet given to a followed file (see CheckpointClaims). */
  private readonly claims: CheckpointClaims;
  /** Where followed files can appear: the spec bases and every directory a listed file is in. */
  private bases: string[] = [];
  private listedDirectories = new Map<string, string>();
  /** The paths the latest listing found. */
  private listedPaths: string[] = [];
  private fileEvents: FileEvents | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();
  private queued = false;
  private queuedKind: PassKind = 'probe';
  /** The files a queued probe is for; null: all of them. */
  private queuedFiles: Set<TrackedFile> | null = null;
  private lastSaveAt = -Infinity;
  private unsavedPositions = false;
  private failed = false;
  /** When the paths were last listed: while no listed directory changes, that listing still holds. */
  private lastListingAt = -Infinity;
  private lastPositions = '';
  private changed = false;
  private stopped = false;
  private first = true;
  private readonly now: () => number;
  private readonly pool: HandlePool;

  constructor(
    private readonly options: FollowerOptions,
    private readonly onBatch: (batch: Batch) => Promise<void>,
  ) {
    this.claims = new CheckpointClaims(options.saved);
    this.now = options.now ?? Date.now;
    this.pool = new HandlePool(options.maxOpenFiles, options.log);
  }

  get followedFiles(): number {
    return this.files.size;
  }

  async start(): Promise<void> {
    this.bases = [...new Set(await Promise.all(this.options.specs.map(watchBase)))];
    await this.reconcileNow('list', null);
    if (this.options.mode === 'events') this.fileEvents = await this.startFileEvents();
    let ticks = 0;
    // Idle cost matters with thousands of quiet files: most ticks only probe the open files. New, renamed
    // and deleted files show as a change of a listed directory, checked every tick.
    this.timer = setInterval(() => {
      ticks += 1;
      this.requestReconcile(this.kindOfTick(ticks));
    }, this.options.reconcileMs);
  }

  private kindOfTick(ticks: number): PassKind {
    if (ticks % LIST_EVERY === 0 || this.directoriesChanged()) return 'list';
    return ticks % VERIFY_EVERY === 0 ? 'verify' : 'probe';
  }

  /** Stops following: the pass under way finishes, open reports stay open (their position is saved). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.fileEvents?.close();
    await this.running;
    if (this.unsavedPositions && !this.failed) await this.save([]);
  }

  /** A listed directory gained, lost or renamed an entry since it was listed. */
  private directoriesChanged(): boolean {
    for (const [dir, signature] of this.listedDirectories) if (directorySignature(dir) !== signature) return true;
    return false;
  }

  /** `only`: a probe of just these files (a file event named them); null or another kind: every file. */
  requestReconcile(kind: PassKind, only: TrackedFile | null = null): void {
    if (this.stopped) return;
    if (!this.queued) this.queuedFiles = only ? new Set([only]) : null;
    else if (only && this.queuedFiles) this.queuedFiles.add(only);
    else this.queuedFiles = null;
    if (PASS_RANK[kind] > PASS_RANK[this.queuedKind]) this.queuedKind = kind;
    if (this.queued) return;
    this.queued = true;
    this.running = this.running
      .then(async () => {
        const [queuedKind, queuedFiles] = [this.queuedKind, this.queuedFiles];
        this.queued = false;
        this.queuedKind = 'probe';
        this.queuedFiles = null;
        if (!this.stopped) await this.reconcileNow(queuedKind, queuedKind === 'probe' ? queuedFiles : null);
      })
      .catch((error: unknown) => {
        // Reading and saving go on only from a saved state: rather than skip a batch, stop following.
        this.stopped = true;
        this.failed = true;
        if (this.timer) clearInterval(this.timer);
        this.options.onFailure(error);
      });
  }

  private startFileEvents(): Promise<FileEvents> {
    return FileEvents.start(this.listedPaths, {
      // A write to a file already followed needs only a probe of it; a path that now names another file
      // (a symlink retargeted, a file renamed over it) needs a listing.
      written: (file) => {
        const tracked = this.trackedAt(file);
        this.requestReconcile(tracked ? 'probe' : 'list', tracked);
      },
      moved: () => this.requestReconcile('list'),
      error: (error) => this.options.log.warn({ error: String(error) }, 'file watcher error; the periodic checks still run'),
    });
  }

  private trackedAt(file: string): TrackedFile | null {
    try {
      return this.files.get(fileKey(statSync(file))) ?? null;
    } catch {
      return null;
    }
  }

  private async reconcileNow(kind: PassKind, only: Set<TrackedFile> | null): Promise<void> {
    const now = this.now();
    const events: ExtractEvent[] = [];
    this.retired = [];
    if (kind === 'list') await this.discover(now);
    events.push(...this.retired);
    this.changed = kind === 'list';
    for (const tracked of [...(only ?? this.files.values())]) {
      if (!this.files.has(tracked.key) || (kind === 'probe' && tracked.isQuiet())) continue;
      events.push(...(await this.readOrRetire(tracked, now, kind !== 'probe')));
    }
    this.first = false;
    counts.filesFollowed = this.files.size;
    counts.filesOpen = this.pool.openCount;
    if (events.length > 0 || ((this.changed || this.unsavedPositions) && now - this.lastSaveAt >= QUIET_SAVE_MS)) await this.save(events);
    else if (this.changed) this.unsavedPositions = true;
  }

  /** Hands the events and every file's position to onBatch (positions only if they moved). */
  private async save(events: ExtractEvent[]): Promise<void> {
    const checkpoints = [...(await Promise.all([...this.files.values()].map((tracked) => tracked.checkpoint()))), ...this.claims.unclaimed];
    const positions = checkpoints.map((c) => `${c.dev}:${c.ino}:${c.offset}:${c.path}`).join('|');
    this.unsavedPositions = false;
    if (events.length === 0 && positions === this.lastPositions) return;
    await this.onBatch({ events, checkpoints });
    this.lastPositions = positions;
    this.lastSaveAt = this.now();
  }

  private async discover(now: number): Promise<void> {
    // Signatures taken before listing: a change during the listing shows at the next check.
    const before = new Map([...this.listedDirectories.keys()].map((dir) => [dir, directorySignature(dir)]));
    const { files } = await expandPaths(this.options.specs);
    this.listedPaths = files.map((file) => file.path);
    this.fileEvents?.follow(this.listedPaths);
    const directories = new Set([...this.bases, ...files.map((file) => path.dirname(path.resolve(file.path)))]);
    this.listedDirectories = new Map([...directories].map((dir) => [dir, before.get(dir) ?? directorySignature(dir)]));
    this.pathsBefore = new Map([...this.files.values()].map((file) => [file.path, file]));
    for (const file of files) {
      const tracked = await this.track(file.path, now).catch((error: Error) => {
        this.options.log.warn({ source: file.path }, `${file.path}: ${error.message}`);
        return null;
      });
      if (!tracked) continue;
      tracked.path = file.path;
      tracked.lastSeenAt = now;
    }
    this.lastListingAt = now;
  }

  private async readOrRetire(tracked: TrackedFile, now: number, mayRetire: boolean): Promise<ExtractEvent[]> {
    const { events, restarted, changed } = await tracked.readAvailable(now);
    this.changed ||= changed;
    if (restarted) this.options.log.warn({ source: tracked.path }, `${tracked.path}: ${restarted}; reading it again from the start`);
    events.push(...tracked.closeIfQuiet(now, this.options.reportTimeoutMs));
    const goneFromPaths = tracked.lastSeenAt < this.lastListingAt;
    if (mayRetire && goneFromPaths && now - tracked.lastSeenAt >= this.options.drainMs && now - tracked.lastGrowthAt >= this.options.drainMs) {
      this.changed = true;
      events.push(...(await this.retire(tracked)));
    }
    return events;
  }

  /** Reads what is left of a file that went away, then lets it go. */
  private async retire(tracked: TrackedFile): Promise<ExtractEvent[]> {
    this.files.delete(tracked.key);
    const { events } = await tracked.readAvailable(this.now());
    return [...events, ...(await tracked.close())];
  }

  /** A new file at a path another followed file had: a report that file left open may continue in this one. */
  private async continueLineage(filePath: string, next: TrackedFile, now: number): Promise<void> {
    const previous = this.pathsBefore.get(filePath);
    if (!previous || !this.files.has(previous.key)) return;
    this.retired.push(...(await previous.readAvailable(now)).events);
    if (previous.offerOpenReportTo(next)) {
      this.options.log.debug({ source: filePath }, 'a report open at the end of the rotated file may continue in the new one');
    }
  }

  /** The followed file at this path, opening it (from its saved position, its start, or its end) when new. */
  private async track(filePath: string, now: number): Promise<TrackedFile | null> {
    const info = statSync(filePath);
    const key = fileKey(info);
    if (this.compressed.has(key)) return null;
    const known = this.files.get(key);
    // A dormant file was just found at this path by its device and inode: it has a name (maybe a new one).
    if (known && (known.dormant || !(await known.isDeleted()))) return known;
    if (known) this.retired.push(...(await this.retire(known)));
    // Within the budget: past it the least recently written file is closed first. Null: no descriptor
    // was free even so (the pool warned once); the next listing tries again.
    const handle = await this.pool.open(filePath);
    if (handle === null) return null;
    let identity: FileIdentity;
    let resume: ResumePoint;
    try {
      // Known by what was opened, not by the stat before: a rename in between would file one inode's
      // position under another's key, and the file the stat saw would never be read.
      identity = await identifyOpen(handle, filePath);
      const opened = fileKey(identity);
      if (opened !== key && (this.files.has(opened) || this.compressed.has(opened))) {
        await this.pool.discard(handle);
        return this.files.get(opened) ?? null;
      }
      if (identity.gzip) {
        // Rotated and compressed: its content was read while it was the live file.
        this.compressed.add(opened);
        await this.pool.discard(handle);
        return null;
      }
      resume = await this.resumePointFor(identity, identity.size);
    } catch (error) {
      await this.pool.discard(handle).catch(() => {});
      throw error;
    }
    const tracked = new TrackedFile(filePath, identity.dev, identity.ino, handle, this.options.extract, resume, now, this.pool);
    await this.continueLineage(filePath, tracked, now);
    this.files.set(tracked.key, tracked);
    return tracked;
  }

  /**
   * Where a newly followed file is read from (see decideResume): its own checkpoint, claimed as if the
   * whole listing it came in claimed together (a file keeping its inode before any copy of it).
   */
  private async resumePointFor(identity: FileIdentity, size: number): Promise<ResumePoint> {
    if (identity.gzip) return { offset: size, line: 1, head: identity.head };
    const checkpoint = await this.claims.claim(identity, this.listedPaths);
    const whenNew = this.first && this.options.startAtEnd ? 'end' : 'start';
    const { resume, restartReason } = await decideResume(identity, checkpoint, whenNew);
    if (restartReason) this.options.log.warn({ source: identity.path }, `${identity.path}: ${restartReason}; reading it from the start`);
    return resume;
  }
}

/** Any file created, renamed or deleted in a directory changes its mtime (and ctime). */
function directorySignature(dir: string): string {
  try {
    const info = statSync(dir);
    return `${info.ino}:${info.mtimeMs}:${info.ctimeMs}`;
  } catch (error) {
    return `unreadable: ${(error as NodeJS.ErrnoException).code ?? String(error)}`;
  }
}

/** The directory to watch for a path spec: a glob's fixed part, a file's directory, or the directory itself. */
async function watchBase(spec: string): Promise<string> {
  const scanned = picomatch.scan(spec);
  if (scanned.isGlob) return path.resolve(scanned.base || '.');
  const info = await stat(spec).catch(() => null);
  return info?.isDirectory() ? path.resolve(spec) : path.dirname(path.resolve(spec));
}
