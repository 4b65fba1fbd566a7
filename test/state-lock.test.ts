import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { lockState, StateLockedError } from '../src/state/lock.js';

// Lets a test change the lock directory between a taker's look and its publish, as a slower taker sees it.
const beforePublish = vi.hoisted(() => ({ run: null as null | (() => void) }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  const link: typeof actual.link = async (existing, target) => {
    const run = beforePublish.run;
    beforePublish.run = null;
    run?.();
    return actual.link(existing, target);
  };
  return { ...actual, link, default: { ...actual, link } };
});

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BOOT_ID = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();

let workDir: string;
let contenderScript: string;
let cases = 0;

// The contender runs as plain node on a bundle: under tsx each process costs ~0.4 s of CPU before it can race.
beforeAll(async () => {
  workDir = mkdtempSync(path.join(tmpdir(), 'racewatch-lock-'));
  contenderScript = path.join(workDir, 'lock-contender.mjs');
  await build({
    entryPoints: [path.join(ROOT, 'test/support/lock-contender.ts')],
    outfile: contenderScript,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
  });
});

afterAll(() => rmSync(workDir, { recursive: true, force: true }));

/** A state file in a directory that does not exist yet. */
function freshStateFile(): string {
  cases += 1;
  return path.join(workDir, `case-${cases}`, 'state', 'gitlab-x.json');
}

function withLockDir(file: string): string {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  return file;
}

function startTimeOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(
    stat
      .slice(stat.lastIndexOf(')') + 1)
      .trim()
      .split(/\s+/)[22 - 3],
  );
}

/** An owner record as racewatch writes it; by default that of the live process `pid`. */
function recordOf(pid: number, overrides: Record<string, unknown> = {}): string {
  const startTime = overrides.startTime ?? startTimeOf(pid);
  return JSON.stringify({ pid, startTime, bootId: BOOT_ID, hostname: hostname(), released: false, ...overrides });
}

// The pid of a process that has exited and been reaped (pids are handed out in sequence, so it stays unused here).
const DEAD_PID = spawnSync(process.execPath, ['-e', '']).pid!;

async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

async function expectRefused(file: string, pid: number): Promise<void> {
  const error = await rejectionOf(lockState(file));
  expect(error).toBeInstanceOf(StateLockedError);
  expect(error.name).toBe('StateLockedError');
  expect(error.message).toBe(`another racewatch (pid ${pid}) is using ${file}; run one racewatch per state directory`);
}

async function expectGranted(file: string): Promise<void> {
  const unlock = await lockState(file);
  await unlock();
}

function lockFilesIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.includes('.lock'))
    .sort();
}

interface Contender {
  child: ChildProcess;
  nextLine(): Promise<string>;
  exited: Promise<void>;
}

function startContender(args: string[]): Contender {
  const child = spawn(process.execPath, [contenderScript, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const nextLine = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error(`contender ${child.pid} exited (${child.exitCode ?? child.signalCode}) without answering`);
    return value as string;
  };
  return { child, nextLine, exited };
}

/** Problems in an enter/exit log: an enter while another holder is inside, or an exit by one not inside. */
function overlapsIn(log: string): string[] {
  const problems: string[] = [];
  let inside: string | null = null;
  for (const line of log.split('\n').filter(Boolean)) {
    const [event, pid] = line.split(' ');
    if (event === 'enter') {
      if (inside !== null) problems.push(`pid ${pid} took the lock while pid ${inside} held it`);
      inside = pid!;
    } else {
      if (inside !== pid) problems.push(`pid ${pid} released a lock held by ${inside ?? 'nobody'}`);
      inside = null;
    }
  }
  return problems;
}

describe('lockState', () => {
  it('refuses a second lock of the same file in this process until the first is released', async () => {
    const file = freshStateFile();
    const unlock = await lockState(file);
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    await expectRefused(file, process.pid);
    await unlock();
    await expectGranted(file);
  });

  it('grants exactly one of two concurrent attempts in this process', async () => {
    const file = freshStateFile();
    const results = await Promise.allSettled([lockState(file), lockState(file)]);
    const granted = results.filter((result) => result.status === 'fulfilled');
    expect(granted).toHaveLength(1);
    await (granted[0] as PromiseFulfilledResult<() => Promise<void>>).value();
  });

  it('refuses a second lock in this process that reaches the same file through a symlink', async () => {
    const file = freshStateFile();
    const unlock = await lockState(file);
    const alias = path.join(workDir, `alias-${cases}`);
    symlinkSync(path.dirname(file), alias);
    await expectRefused(path.join(alias, path.basename(file)), process.pid);
    await unlock();
    await expectGranted(path.join(alias, path.basename(file)));
  });

  it('leaves one released lock file and no temporary files behind', async () => {
    const file = freshStateFile();
    for (let i = 0; i < 3; i += 1) await expectGranted(file);
    const [left, ...more] = lockFilesIn(path.dirname(file));
    expect(more).toEqual([]);
    const record: unknown = JSON.parse(readFileSync(path.join(path.dirname(file), left!), 'utf8'));
    expect(record).toMatchObject({ pid: process.pid, released: true });
  });

  it('refuses while a live process holds the lock, naming its pid, and grants it once that process is killed', async () => {
    const file = freshStateFile();
    const holder = startContender(['hold', file]);
    try {
      expect(await holder.nextLine()).toBe('locked');
      await expectRefused(file, holder.child.pid!);
    } finally {
      holder.child.kill('SIGKILL');
      await holder.exited;
    }
    await expectGranted(file);
  });

  it('refuses a record that matches a live process in pid, start time, boot and host', async () => {
    const file = withLockDir(freshStateFile());
    writeFileSync(`${file}.lock.1`, recordOf(process.ppid));
    await expectRefused(file, process.ppid);
  });

  // /proc/<pid>/stat puts the command name in parentheses, unescaped; a naive split would read another field.
  it('refuses a record of a live process whose command name holds ") ("', async () => {
    const other = startContender(['hold', freshStateFile(), 'lock) (holder']);
    try {
      expect(await other.nextLine()).toBe('locked');
      expect(readFileSync(`/proc/${other.child.pid}/stat`, 'utf8')).toContain('(lock) (holder)');
      const file = withLockDir(freshStateFile());
      writeFileSync(`${file}.lock.1`, recordOf(other.child.pid!));
      await expectRefused(file, other.child.pid!);
    } finally {
      other.child.kill('SIGKILL');
      await other.exited;
    }
  });

  it.each([
    ['a different start time (pid reused)', { startTime: startTimeOf(process.ppid) + 1 }],
    ['a different boot id (written before a reboot)', { bootId: '00000000-0000-0000-0000-000000000000' }],
    ['a different host name', { hostname: `not-${hostname()}` }],
    ['a dead pid', { pid: DEAD_PID, startTime: 1 }],
    ['a released flag', { released: true }],
  ])('takes over a record of a live pid with %s', async (_, overrides) => {
    const file = withLockDir(freshStateFile());
    writeFileSync(`${file}.lock.1`, recordOf(process.ppid, overrides));
    await expectGranted(file);
    expect(lockFilesIn(path.dirname(file))).toEqual(['gitlab-x.json.lock.2']);
  });

  it.each([
    ['an empty file', ''],
    ['torn JSON', '{"pid": 12'],
    ['JSON of another shape', '{"pid":"12","released":"no"}'],
    ['a bare number', '12'],
  ])('treats a lock record holding %s as dead', async (_, content) => {
    const file = withLockDir(freshStateFile());
    writeFileSync(`${file}.lock.1`, content);
    writeFileSync(`${file}.lock.2`, content);
    await expectGranted(file);
    expect(lockFilesIn(path.dirname(file))).toEqual(['gitlab-x.json.lock.3']);
  });

  it('takes over a legacy pid-only lock of a dead process, or holding garbage, and removes it', async () => {
    for (const content of [String(DEAD_PID), 'garbage', '']) {
      const file = withLockDir(freshStateFile());
      writeFileSync(`${file}.lock`, content);
      await expectGranted(file);
      expect(lockFilesIn(path.dirname(file))).toEqual(['gitlab-x.json.lock.1']);
    }
  });

  it('refuses a legacy pid-only lock of a live process', async () => {
    const file = withLockDir(freshStateFile());
    writeFileSync(`${file}.lock`, `${process.ppid}\n`);
    await expectRefused(file, process.ppid);
    expect(lockFilesIn(path.dirname(file))).toEqual(['gitlab-x.json.lock']);
  });

  it('backs off when a higher number was published between its look and its own publish', async () => {
    const file = withLockDir(freshStateFile());
    writeFileSync(`${file}.lock.1`, recordOf(DEAD_PID, { startTime: 1 }));
    // Meanwhile lock.2 came and went, and lock.3 belongs to a live holder that removed it.
    beforePublish.run = () => writeFileSync(`${file}.lock.3`, recordOf(process.ppid));
    await expectRefused(file, process.ppid);
    expect(JSON.parse(readFileSync(`${file}.lock.2`, 'utf8'))).toMatchObject({ pid: process.pid, released: true });
  });

  it('backs off when a live lower record stays after its own publish', async () => {
    const file = withLockDir(freshStateFile());
    writeFileSync(`${file}.lock.1`, recordOf(DEAD_PID, { startTime: 1 }));
    beforePublish.run = () => writeFileSync(`${file}.lock.1`, recordOf(process.ppid));
    await expectRefused(file, process.ppid);
    expect(JSON.parse(readFileSync(`${file}.lock.2`, 'utf8'))).toMatchObject({ pid: process.pid, released: true });
  });

  // The twenty processes are started once and raced five times: starting them costs far more than a round.
  it('lets no two of twenty processes racing for a stale lock hold it at once', async () => {
    const contenders = Array.from({ length: 20 }, () => startContender(['contend']));
    try {
      expect(await Promise.all(contenders.map((contender) => contender.nextLine()))).toEqual(Array(20).fill('ready'));
      for (let round = 1; round <= 5; round += 1) await raceRound(round, contenders);
    } finally {
      for (const contender of contenders) contender.child.stdin!.end();
      await Promise.all(contenders.map((contender) => contender.exited));
    }
  });
});

async function raceRound(round: number, contenders: Contender[]): Promise<void> {
  const file = withLockDir(freshStateFile());
  writeFileSync(`${file}.lock.1`, recordOf(DEAD_PID, { startTime: 1 }));
  writeFileSync(`${file}.lock`, String(DEAD_PID));
  const log = path.join(path.dirname(file), 'holders.log');
  writeFileSync(log, '');

  const request = `${JSON.stringify({ file, log, holdMs: 200 })}\n`;
  for (const contender of contenders) contender.child.stdin!.write(request);
  const answers = await Promise.all(contenders.map((contender) => contender.nextLine()));

  const granted = answers.filter((answer) => answer === 'granted').length;
  const refused = answers.filter((answer) => answer === 'refused').length;
  expect(granted + refused, `round ${round}: answers ${answers.join(' ')}`).toBe(20);
  expect(granted, `round ${round}: nobody got the lock`).toBeGreaterThanOrEqual(1);
  const holders = readFileSync(log, 'utf8');
  expect(overlapsIn(holders), `round ${round}:\n${holders}`).toEqual([]);
  expect(holders.split('\n').filter((line) => line.startsWith('enter'))).toHaveLength(granted);
  expect(readdirSync(path.dirname(file)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
}
