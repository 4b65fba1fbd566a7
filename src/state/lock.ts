/**
 * One racewatch per state file, across processes.
 *
 * Why generation-numbered files: the previous lock (create `FILE.lock`; on finding a dead owner, remove it
 * and create it again) has a check-then-act window: two takers both see the dead owner, one removes and
 * creates, the other removes that fresh lock and creates its own, and both run. proper-lockfile's stale
 * takeover (rmdir, then mkdir) has the same window, so it is no fix. Here a stale lock is never replaced:
 * each taker publishes a new `FILE.lock.<N+1>` with `link()` (exclusive, and the record appears complete),
 * then looks again, and holds the lock only if its number is the highest present and every other lock file
 * is released or has a dead owner.
 *
 * Why that is safe: only a holder removes files, and only numbers below its own, so the highest file is
 * never removed and the highest number never goes down. A holder's file is thus still there, unreleased,
 * when a later taker looks after publishing its higher number, and that taker backs off. Release rewrites
 * the holder's own file as released (rename, atomic) and leaves it for the next holder to remove.
 *
 * Why start time and boot id: a pid alone is no identity; after a reboot or a wrap it can name an unrelated
 * live process, and the old lock then refused forever.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { StateWriteError } from './atomic-file.js';
import { setTimeout as sleep } from 'node:timers/promises';
import * as z from 'zod/mini';
import '../validation/english-messages.js';

export class StateLockedError extends Error {
  constructor(file: string, pid: number) {
    super(`another racewatch (pid ${pid}) is using ${file}; run one racewatch per state directory`);
    this.name = 'StateLockedError';
  }
}

const ownerSchema = z.object({
  pid: z.int(),
  /** Clock ticks after boot, from /proc/<pid>/stat; null where /proc could not tell. */
  startTime: z.nullable(z.int()),
  bootId: z.string(),
  hostname: z.string(),
  released: z.boolean(),
});
type Owner = z.infer<typeof ownerSchema>;

// Rounds in which another taker published first; each such round means someone else is making progress.
const MAX_ROUNDS = 20;
// Pauses a taker holding the highest number waits for lower contenders to see it and step aside.
const MAX_WAITS = 40;

// Files this process is locking or holds, checked before any await: a second attempt is refused at once
// rather than found in the lock files (which also refuse it, under another path to the same file too).
const claimed = new Set<string>();

/**
 * Takes the lock for a state file, creating its directory (0700) if missing. Throws StateLockedError while
 * another live racewatch holds it, or while this process does. Resolves to the function that releases it.
 */
export async function lockState(file: string): Promise<() => Promise<void>> {
  const key = path.resolve(file);
  if (claimed.has(key)) throw new StateLockedError(file, process.pid);
  claimed.add(key);
  try {
    await mkdir(path.dirname(key), { recursive: true, mode: 0o700 });
    const lock = new LockFiles(key, file);
    const me = await ownIdentity();
    const mine = await acquire(lock, me);
    return releaser(lock, mine, me, key);
  } catch (error) {
    claimed.delete(key);
    if (error instanceof StateLockedError || typeof (error as NodeJS.ErrnoException).code !== 'string') throw error;
    // Node names no file for a failed write on an open handle: say which lock it was.
    throw (error as NodeJS.ErrnoException).path ? error : new StateWriteError(`${file}.lock`, error);
  }
}

function releaser(lock: LockFiles, mine: number, me: Owner, key: string): () => Promise<void> {
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    try {
      await lock.markReleased(mine, me);
    } finally {
      claimed.delete(key);
    }
  };
}

async function acquire(lock: LockFiles, me: Owner): Promise<number> {
  for (let round = 0; round < MAX_ROUNDS; round += 1) {
    if (round > 0) await pause();
    const present = await lock.numbers();
    const holder = await liveOwnerAmong(lock, present);
    if (holder !== null) throw lock.lockedBy(holder);
    const mine = highest(present) + 1;
    if (!(await lock.publish(mine, me))) continue;
    let outcome: Outcome | undefined;
    try {
      outcome = await settle(lock, mine);
    } finally {
      // Also on an error: a record left unreleased would lock the others out for as long as we live.
      if (outcome?.kind !== 'held') await lock.markReleased(mine, me);
    }
    if (outcome.kind === 'held') {
      await lock.removeBelow(mine);
      return mine;
    }
    if (outcome.kind === 'blocked') throw lock.lockedBy(outcome.pid);
  }
  throw lock.lockedBy(await lock.pidOf(highest(await lock.numbers())));
}

type Outcome = { kind: 'held' } | { kind: 'blocked'; pid: number } | { kind: 'outbid' };

/** After publishing `mine`: held, outbid by a higher number, or blocked by a lower live owner that stays. */
async function settle(lock: LockFiles, mine: number): Promise<Outcome> {
  for (let wait = 0; ; wait += 1) {
    const present = await lock.numbers();
    if (highest(present) > mine) return { kind: 'outbid' };
    const holder = await liveOwnerAmong(
      lock,
      present.filter((n) => n !== mine),
    );
    if (holder === null) return { kind: 'held' };
    // A lower live owner is either a holder (it stays) or a contender that will see our number and step aside.
    if (wait >= MAX_WAITS) return { kind: 'blocked', pid: holder };
    await pause();
  }
}

/** The pid of a live, unreleased owner among these lock files and the legacy one, or null. */
async function liveOwnerAmong(lock: LockFiles, numbers: number[]): Promise<number | null> {
  const legacy = await lock.legacyOwner();
  if (legacy !== null && legacy !== process.pid && pidExists(legacy)) return legacy;
  const me = await ownIdentity();
  for (const n of numbers) {
    const owner = await lock.read(n);
    if (owner !== null && !owner.released && (await isLive(owner, me))) return owner.pid;
  }
  return null;
}

async function isLive(owner: Owner, me: Owner): Promise<boolean> {
  if (owner.bootId !== me.bootId || owner.hostname !== me.hostname) return false;
  if (!pidExists(owner.pid)) return false;
  const started = await processStartTime(owner.pid);
  if (started === null) return pidExists(owner.pid); // exited meanwhile, or /proc hides it: then assume live
  return owner.startTime === null || owner.startTime === started;
}

function pidExists(pid: number): boolean {
  if (!(pid > 0)) return false; // 0 and negatives would signal process groups
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Field 22 of /proc/<pid>/stat; null where /proc cannot tell (gone, hidden, not Linux). */
async function processStartTime(pid: number | 'self'): Promise<number | null> {
  let stat: string;
  try {
    stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // Field 2, the command name, is in parentheses and may itself hold spaces and ')'; field 3 follows the last ')'.
  const fields = stat
    .slice(stat.lastIndexOf(')') + 1)
    .trim()
    .split(/\s+/);
  const startTime = Number(fields[22 - 3]);
  return Number.isSafeInteger(startTime) ? startTime : null;
}

let identity: Promise<Owner> | undefined;

function ownIdentity(): Promise<Owner> {
  identity ??= (async () => ({
    pid: process.pid,
    startTime: await processStartTime('self'),
    bootId: (await readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => '')).trim(),
    hostname: hostname(),
    released: false,
  }))();
  return identity;
}

function highest(numbers: number[]): number {
  return numbers.reduce((top, n) => Math.max(top, n), 0);
}

function pause(): Promise<void> {
  return sleep(5 + Math.random() * 25);
}

/** The lock files of one state file: `FILE.lock.<N>`, and the pid-only `FILE.lock` older racewatch wrote. */
class LockFiles {
  private readonly dir: string;
  private readonly prefix: string;

  constructor(
    private readonly key: string,
    private readonly shownName: string,
  ) {
    this.dir = path.dirname(key);
    this.prefix = `${path.basename(key)}.lock.`;
  }

  lockedBy(pid: number): StateLockedError {
    return new StateLockedError(this.shownName, pid);
  }

  async numbers(): Promise<number[]> {
    const names = await readdir(this.dir);
    return names
      .filter((name) => name.startsWith(this.prefix) && /^[1-9][0-9]*$/.test(name.slice(this.prefix.length)))
      .map((name) => Number(name.slice(this.prefix.length)));
  }

  /** The owner record of lock N; null when it is gone or unreadable (a torn or foreign file is no owner). */
  async read(n: number): Promise<Owner | null> {
    const text = await readFile(this.pathOf(n), 'utf8').catch(() => null);
    if (text === null) return null;
    try {
      const parsed = ownerSchema.safeParse(JSON.parse(text));
      return parsed.success ? parsed.data : null;
    } catch {
      return null;
    }
  }

  async pidOf(n: number): Promise<number> {
    return (await this.read(n))?.pid ?? Number.NaN;
  }

  async legacyOwner(): Promise<number | null> {
    const text = await readFile(this.legacyPath(), 'utf8').catch(() => null);
    if (text === null) return null;
    const pid = Number(text.trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  }

  /** Publishes our record as lock N; false if that number is taken. */
  async publish(n: number, me: Owner): Promise<boolean> {
    const temporary = await this.writeTemporary(me);
    try {
      await link(temporary, this.pathOf(n));
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    } finally {
      await rm(temporary, { force: true });
    }
  }

  /**
   * Rewrites our record as released. When that cannot be written (a full disk), the record is removed
   * instead: no later holder can exist while we hold, so removing our own number lets nobody in early.
   */
  async markReleased(n: number, me: Owner): Promise<void> {
    try {
      const temporary = await this.writeTemporary({ ...me, released: true });
      await rename(temporary, this.pathOf(n)).catch(async (error: unknown) => {
        await rm(temporary, { force: true });
        throw error;
      });
    } catch {
      await rm(this.pathOf(n), { force: true });
    }
  }

  /**
   * Run by the holder only: lower numbers and the legacy file belong to owners it has found gone or released.
   * Best effort: a file left behind is one more dead record for the next taker.
   */
  async removeBelow(mine: number): Promise<void> {
    const lower = (await this.numbers().catch(() => [])).filter((n) => n < mine).map((n) => this.pathOf(n));
    await Promise.all([...lower, this.legacyPath()].map((file) => rm(file, { force: true }).catch(() => {})));
  }

  private async writeTemporary(owner: Owner): Promise<string> {
    const temporary = path.join(this.dir, `.${this.prefix}${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    const handle = await open(temporary, 'wx', 0o600);
    try {
      try {
        await handle.writeFile(`${JSON.stringify(owner)}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    return temporary;
  }

  private pathOf(n: number): string {
    return `${this.key}.lock.${n}`;
  }

  private legacyPath(): string {
    return `${this.key}.lock`;
  }
}
