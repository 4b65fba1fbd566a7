// Child processes for the bench: timed runs under /usr/bin/time (peak RSS), CPU time from /proc, and a
// registry so that every child the bench started is ended if the bench stops early.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const TIME = '/usr/bin/time';
const RSS_TAG = 'bench-maxrss-kib=';
const STDERR_KEEP = 256 * 1024;

const live = new Set<ChildProcess>();

/** Kills (SIGKILL) every child still running; for the bench's own cleanup only. */
export function killAllStarted(): void {
  for (const child of live) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

export function track(child: ChildProcess): ChildProcess {
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/** The environment of the bench's children: the bench's own, minus anything that would configure racewatch. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(
      ([key]) =>
        !key.startsWith('RACEWATCH_') &&
        !key.startsWith('GITLAB_') &&
        !['LOG_LEVEL', 'CREDENTIALS_DIRECTORY', 'STATE_DIRECTORY', 'BENCH_SMOKE', 'BENCH_SIZE_MB'].includes(key),
    ),
  );
  return { ...base, ...extra };
}

export interface TimedRun {
  command: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** From spawn to exit, as seen by the bench. */
  wallMs: number;
  /** Peak resident set size of the command, from GNU time's %M (KiB). */
  maxRssKiB: number;
  /** Standard output when `stdout: 'capture'`. */
  stdout: string;
  /** The command's standard error, without GNU time's line (last 256 KiB). */
  stderr: string;
}

/**
 * Runs `cmd args` under `/usr/bin/time -f %M`, its standard output sent to /dev/null, a file, or captured.
 * Standard error is collected (racewatch's logs and GNU time's report).
 */
export async function runTimed(
  cmd: string,
  args: string[],
  opts: { stdout: 'null' | 'capture' | { file: string }; env?: NodeJS.ProcessEnv },
): Promise<TimedRun> {
  const outFd = opts.stdout === 'capture' ? null : openSync(opts.stdout === 'null' ? '/dev/null' : opts.stdout.file, 'w');
  const command = [cmd, ...args].join(' ') + (opts.stdout === 'null' ? ' > /dev/null' : opts.stdout === 'capture' ? '' : ` > ${opts.stdout.file}`);
  try {
    const start = performance.now();
    const child = track(spawn(TIME, ['-f', `${RSS_TAG}%M`, cmd, ...args], { env: opts.env ?? cleanEnv(), stdio: ['ignore', outFd ?? 'pipe', 'pipe'] }));
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr!.setEncoding('utf8').on('data', (text: string) => {
      stderr += text;
      if (stderr.length > 2 * STDERR_KEEP) stderr = stderr.slice(-STDERR_KEEP);
    });
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() }));
    });
    await closed;
    const tagAt = stderr.lastIndexOf(RSS_TAG);
    const maxRssKiB = tagAt < 0 ? NaN : Number.parseInt(stderr.slice(tagAt + RSS_TAG.length), 10);
    // GNU time reports a failed command on its own line ("Command exited with non-zero status N") before %M.
    const ownText = tagAt < 0 ? stderr : stderr.slice(0, tagAt).replace(/Command (exited with non-zero status \d+|terminated by signal \d+)\n$/, '');
    return { command, code: exit.code, signal: exit.signal, wallMs: exit.at - start, maxRssKiB, stdout, stderr: ownText };
  } finally {
    if (outFd !== null) closeSync(outFd);
  }
}

let clockTicks: number | null = null;
export function clkTck(): number {
  clockTicks ??= Number.parseInt(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim(), 10);
  return clockTicks;
}

/** utime + stime of a process (all its threads), in seconds, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / clkTck();
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Nearest-rank percentile (p in 0..100). */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

/** CPU time all processes of the machine spent busy (not idle, not waiting for I/O), in seconds, from /proc/stat. */
export function machineBusySeconds(): number {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal guest guest_nice; guest time is already in user.
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = cpu;
  return (user + nice + system + irq + softirq + steal) / clkTck();
}

/** CPU time of this process (the bench, with the GitLab stand-in), in seconds. */
export function ownCpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}
