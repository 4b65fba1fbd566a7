import { statSync } from 'node:fs';
import { type FileHandle, stat } from 'node:fs/promises';
import path from 'node:path';
import picomatch from 'picomatch';
import type { Logger } from '../log/logger.js';
import type { ExtractEvent, ExtractOptions, ResumePoint } from '../pipeline/extract.js';
import type { Checkpoint } from '../state/checkpoints.js';
import { expandPaths } from '../source/expand.js';
import { type Generation, inodesOf, Lineages, lineageOf, rotatedGenerations, singleFileSpecs, worthOpening } from '../source/generations.js';
import { type FileIdentity, identifyOpen } from '../source/identity.js';
import { CheckpointClaims, contentOfHandle, copyResume, decideResume, sameContent } from '../source/resume.js';
import { counts } from '../observability/metrics.js';
import { DirectoryEvents } from './directory-events.js';
import { FileEvents, onWatchError } from './file-events.js';
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
  /** When the paths were last listed by the run that saved `saved` (null: never, or not known). */
  listedAt: number | null;
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

/** What opening a listed path answers when the file went away since it was listed. */
const GONE_CODES = new Set(['ENOENT', 'ENOTDIR']);
/**
 * A listing that opened files is repeated until it opens none, at most this many times in all (a flood of
 * new files must not hold the pass forever). Measured: with renames every 50 ms and 700 generations, 4
 * rounds were needed now and then, and a fifth would have been once in about 1,000 reports.
 */
const MAX_LISTING_ROUNDS = 16;
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
  /** When the latest listing of the paths began. */
  listedAt: number | null;
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
  /** Those and the rotated generations opened with them: the files that claim checkpoints together. */
  private claimListing: string[] = [];
  private fileEvents: FileEvents | null = null;
  private directoryEvents: DirectoryEvents | null = null;
  /** File and directory watches alike: the inotify limit is said once. */
  private readonly watchError = onWatchError((error) => this.options.log.warn({ error: String(error) }, 'file watcher error; the periodic checks still run'));
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
  /** When the latest listing began, by this run or (until this run lists) the run that saved the positions. */
  private listedAt: number | null;
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
    this.listedAt = options.listedAt;
    this.now = options.now ?? Date.now;
    this.pool = new HandlePool(options.maxOpenFiles, options.log);
  }

  get followedFiles(): number {
    return this.files.size;
  }

  async start(): Promise<void> {
    this.bases = [...new Set(await Promise.all(this.options.specs.map(watchBase)))];
    await this.reconcileNow('list', null);
    if (this.options.mode === 'events') {
      this.fileEvents = await this.startFileEvents();
      this.directoryEvents = this.startDirectoryEvents();
    }
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
    this.directoryEvents?.close();
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
      error: this.watchError,
    });
  }

  /** A single-file path or one of its generations created, deleted or renamed: list at once. */
  private startDirectoryEvents(): DirectoryEvents {
    const specs = this.options.specs;
    return DirectoryEvents.start(
      singleFileSpecs(specs).map((spec) => path.dirname(spec)),
      (file) => lineageOf(file, specs) !== null,
      () => this.requestReconcile('list'),
      this.watchError,
    );
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
    await this.onBatch({ events, checkpoints, listedAt: this.listedAt });
    this.lastPositions = positions;
    this.lastSaveAt = this.now();
  }

  private async discover(now: number): Promise<void> {
    // Signatures taken before listing: a change during the listing shows at the next check.
    const before = new Map([...this.listedDirectories.keys()].map((dir) => [dir, directorySignature(dir)]));
    this.pathsBefore = new Map([...this.files.values()].map((file) => [file.path, file]));
    const opened = new Map<TrackedFile, Checkpoint | null>();
    // A path listed as one file can be another by the time it is opened (a rotation meanwhile), and the
    // file listed is then elsewhere. Listing again until nothing new shows finds it in the same pass, so
    // that it is offered what its predecessor left open before its successor reads a byte.
    for (let round = 0; round < MAX_LISTING_ROUNDS; round++) {
      if ((await this.listOnce(now, opened, before)) === 0) break;
    }
    await this.continueLineages(opened, now);
    this.listedAt = now;
    this.lastListingAt = now;
  }

  /** Lists the paths and opens what is new among them; returns how many files it opened. */
  private async listOnce(now: number, opened: Map<TrackedFile, Checkpoint | null>, before: Map<string, string>): Promise<number> {
    const openedBefore = opened.size;
    const { files, vanished } = await expandPaths(this.options.specs);
    counts.filesVanished += vanished;
    const generations = this.generationsToOpen();
    this.listedPaths = files.map((file) => file.path);
    this.claimListing = [...this.listedPaths, ...generations.map((generation) => generation.path)];
    this.fileEvents?.follow(this.listedPaths);
    const directories = new Set([...this.bases, ...files.map((file) => path.dirname(path.resolve(file.path)))]);
    this.listedDirectories = new Map([...directories].map((dir) => [dir, before.get(dir) ?? directorySignature(dir)]));
    for (const file of files) {
      const tracked = await this.trackOrWarn(file.path, now, null, opened);
      if (tracked) tracked.lastSeenAt = now;
    }
    // Generations are read, not watched: they drain like any file gone from the paths.
    for (const generation of generations) await this.trackOrWarn(generation.path, now, generation, opened);
    return opened.size - openedBefore;
  }

  /**
   * The rotated generations of single-file paths to open (generations.ts), born since the previous
   * listing or named by a saved checkpoint. One already followed is only renamed: it keeps draining.
   */
  private generationsToOpen(): Generation[] {
    const savedInodes = inodesOf(this.claims.unclaimed);
    return rotatedGenerations(this.options.specs, this.listedAt).filter((generation) => {
      const known = this.files.get(generation.key);
      if (known) known.path = generation.path;
      return !known && !this.compressed.has(generation.key) && worthOpening(generation, savedInodes);
    });
  }

  private async trackOrWarn(
    filePath: string,
    now: number,
    generation: Generation | null,
    opened: Map<TrackedFile, Checkpoint | null>,
  ): Promise<TrackedFile | null> {
    try {
      const tracked = await this.track(filePath, now, generation, opened);
      if (tracked) tracked.path = filePath;
      return tracked;
    } catch (error) {
      if (GONE_CODES.has((error as NodeJS.ErrnoException).code ?? '')) counts.filesVanished += 1;
      else if (generation === null) this.options.log.warn({ source: filePath }, `${filePath}: ${(error as Error).message}`);
      return null;
    }
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

  /**
   * A file opened by this listing may continue a report another followed file left open at its end: the
   * file it replaced (see predecessors). Oldest first, so that along several rotations between two
   * listings each file is offered the report of the one before it.
   */
  private async continueLineages(opened: Map<TrackedFile, Checkpoint | null>, now: number): Promise<void> {
    if (opened.size === 0) return;
    const predecessorOf = this.predecessors(opened);
    const oldestFirst = [...opened.keys()].sort((a, b) => (a.bornAt ?? 0) - (b.bornAt ?? 0));
    for (const next of oldestFirst) {
      const previous = predecessorOf(next);
      if (!previous || previous === next || !this.files.has(previous.key)) continue;
      this.retired.push(...(await previous.readAvailable(now)).events);
      if (previous.offerOpenReportTo(next)) {
        this.options.log.debug({ source: next.path }, 'a report open at the end of the rotated file may continue in the new one');
      }
    }
  }

  /**
   * Which file a newly opened one replaced. Where the filesystem keeps birth times: the file of the same
   * lineage (a log and its rotated generations, see Lineages) born just before it. Else the file its path
   * had before this listing, or the file whose checkpoint was saved under its path (a rotation while
   * racewatch was stopped, or a report still continuing in it when racewatch stopped). A file resumed from
   * a checkpoint saved under another name replaced nothing: it is itself the renamed one.
   */
  private predecessors(opened: Map<TrackedFile, Checkpoint | null>): (next: TrackedFile) => TrackedFile | undefined {
    const files = [...this.files.values()];
    const lineages = new Lineages([...singleFileSpecs(this.options.specs), ...files.map((file) => file.path)]);
    const byLineage = new Map<string, TrackedFile[]>();
    for (const file of files) {
      if (file.bornAt === null) continue;
      const root = lineages.rootOf(file.path);
      byLineage.set(root, [...(byLineage.get(root) ?? []), file]);
    }
    const savedAt = new Map([...opened].filter(([file, saved]) => saved && saved.path !== file.path).map(([file, saved]) => [saved!.path, file]));
    return (next) => {
      const saved = opened.get(next);
      if (saved && saved.path !== next.path) return undefined;
      if (next.bornAt !== null) {
        const older = (byLineage.get(lineages.rootOf(next.path)) ?? []).filter((file) => file.bornAt! < next.bornAt!);
        if (older.length > 0) return older.reduce((a, b) => (b.bornAt! > a.bornAt! ? b : a));
      }
      return this.pathsBefore.get(next.path) ?? savedAt.get(next.path);
    };
  }

  /** The followed file at this path, opening it (from its saved position, its start, or its end) when new. */
  private async track(filePath: string, now: number, generation: Generation | null, opened: Map<TrackedFile, Checkpoint | null>): Promise<TrackedFile | null> {
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
    let checkpoint: Checkpoint | null;
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
      ({ resume, checkpoint } = await this.resumePointFor(identity, generation, handle));
      // A generation with an inode a checkpoint had, but other content: not the file that was saved.
      if (generation && !generation.born && checkpoint === null) {
        await this.pool.discard(handle);
        return null;
      }
    } catch (error) {
      await this.pool.discard(handle).catch(() => {});
      throw error;
    }
    const tracked = new TrackedFile(filePath, identity.dev, identity.ino, handle, this.options.extract, resume, now, this.pool);
    tracked.bornAt = identity.bornAt;
    opened.set(tracked, checkpoint);
    this.files.set(tracked.key, tracked);
    return tracked;
  }

  /**
   * Where a newly followed file is read from (see decideResume): its own checkpoint, claimed as if the
   * whole listing it came in claimed together (a file keeping its inode before any copy of it). A
   * generation born since the last look was never read: its start, whatever the start-at setting.
   */
  /**
   * The positions before truncation of the followed files a new file may be a copy of (they began with
   * the same bytes). The copy is often listed before the original's truncation shows: an fstat of each
   * such original tells it now, so the copy is not read again from its start.
   */
  private truncatedOriginalsOf(identity: FileIdentity): Checkpoint[] {
    const originals = [...this.files.values()].filter((file) => file.knownStarts.some((start) => sameContent(start, identity)));
    for (const file of originals) {
      const reason = file.noticeTruncation();
      if (reason) this.options.log.warn({ source: file.path }, `${file.path}: ${reason}; reading it again from the start`);
    }
    return originals.flatMap((file) => file.positionBeforeTruncation ?? []);
  }

  private async resumePointFor(
    identity: FileIdentity,
    generation: Generation | null,
    handle: FileHandle,
  ): Promise<{ resume: ResumePoint; checkpoint: Checkpoint | null }> {
    if (identity.gzip) return { resume: { offset: identity.size, line: 1, head: identity.head }, checkpoint: null };
    const checkpoint = await this.claims.claim(identity, this.claimListing);
    if (checkpoint === null && !this.first) {
      const copied = await copyResume(identity, this.truncatedOriginalsOf(identity), contentOfHandle(handle));
      if (copied) return { resume: copied, checkpoint: null };
    }
    const whenNew = this.first && this.options.startAtEnd && !generation?.born ? 'end' : 'start';
    const { resume, restartReason } = await decideResume(identity, checkpoint, whenNew);
    if (restartReason) this.options.log.warn({ source: identity.path }, `${identity.path}: ${restartReason}; reading it from the start`);
    return { resume, checkpoint };
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
