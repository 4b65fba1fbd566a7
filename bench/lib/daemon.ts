// The daemon measures: report-to-GitLab latency against the GitLab stand-in, and CPU while following many
// quiet files (idle), or the same with one of them written to steadily (busy).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { GitlabStandin, RecordedRequest } from '../../test/support/gitlab-standin.js';
import { cleanEnv, cpuSeconds, machineBusySeconds, ownCpuSeconds, sleep, track } from './proc.js';
import type { SampleReport } from './reports.js';
import { BenchFailure } from './scan.js';

const FOLLOWING = 'racewatch daemon following';
const OCCURRENCES = /racewatch:occurrences ([0-9a-f ]*)/g;

export interface Daemon {
  child: ChildProcess;
  pid: number;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then the exit status; fails the bench if it does not stop cleanly. */
  stop(): Promise<void>;
}

export function startDaemon(cli: string, env: Record<string, string>, what: string, nodeArgs: string[] = []): Daemon {
  const child = track(spawn(process.execPath, [...nodeArgs, cli, 'daemon'], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] }));
  let text = '';
  const collect = (chunk: Buffer) => {
    text += chunk.toString('utf8');
    if (text.length > 4 << 20) text = text.slice(-(1 << 20));
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    pid: child.pid!,
    output: () => text,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const { code, signal } = await exited;
      clearTimeout(timer);
      if (code !== 0)
        throw new BenchFailure(`the ${what} daemon did not stop cleanly on SIGTERM (${signal ?? `exit ${code}`}); its last output:\n${text.slice(-4000)}`);
    },
  };
}

function assertAlive(daemon: Daemon, what: string): void {
  if (daemon.child.exitCode !== null || daemon.child.signalCode !== null) {
    throw new BenchFailure(
      `the ${what} daemon exited (${daemon.child.signalCode ?? `exit ${daemon.child.exitCode}`}); its last output:\n${daemon.output().slice(-4000)}`,
    );
  }
}

async function waitUntil(condition: () => boolean, daemon: Daemon, daemonName: string, what: string, timeoutMs: number, everyMs = 1): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    assertAlive(daemon, daemonName);
    if (performance.now() > deadline)
      throw new BenchFailure(`timed out after ${timeoutMs} ms waiting for ${what}; daemon output:\n${daemon.output().slice(-4000)}`);
    await sleep(everyMs);
  }
}

export async function waitFollowing(daemon: Daemon, what: string): Promise<void> {
  await waitUntil(() => daemon.output().includes(FOLLOWING), daemon, what, `the ${what} daemon to log "${FOLLOWING}"`, 60_000, 10);
}

/** Notes each request the stand-in receives, with the moment its body had fully arrived. */
function hookRequests(standin: GitlabStandin): Array<{ at: number; request: RecordedRequest }> {
  const seen: Array<{ at: number; request: RecordedRequest }> = [];
  const requests = standin.requests;
  const push = requests.push.bind(requests);
  // The stand-in records a request (after reading its body) with `requests.push`, before it serves it.
  requests.push = (...items: RecordedRequest[]) => {
    const at = performance.now();
    for (const request of items) seen.push({ at, request });
    return push(...items);
  };
  return seen;
}

/** `POST /issues/:n/notes`: the path under the project, numbers replaced. */
function shortRequest(request: RecordedRequest): string {
  const under = request.path.replace(/^\/api\/v4\/projects\/[^/]+/, '').replace(/\/\d+(?=\/|$)/g, '/:n');
  return `${request.method} ${under || '/'}`;
}

function occurrenceIds(request: RecordedRequest): string[] {
  if (request.method !== 'POST') return [];
  const body = typeof request.body === 'string' ? request.body : JSON.stringify(request.body);
  return [...body.matchAll(OCCURRENCES)].flatMap((m) => m[1]!.split(' ').filter(Boolean));
}

export interface LatencyResult {
  samplesMs: number[];
  /** Per sample: from the closing line to the first request the stand-in received for it (any request). */
  firstRequestMs: number[];
  /** The requests of each sample, in order, e.g. `GET /issues/:n, POST /issues/:n/notes`, and how often. */
  sequences: Record<string, number>;
  /** The first sighting (files the issue), not among the samples. */
  warmupMs: number;
  warmupPath: string;
  samplePaths: Record<string, number>;
}

export async function benchLatency(opts: {
  cli: string;
  dir: string;
  standin: GitlabStandin;
  report: SampleReport;
  samples: number;
  progress: (text: string) => void;
}): Promise<LatencyResult> {
  mkdirSync(opts.dir, { recursive: true });
  const logFile = path.join(opts.dir, 'soakd.log');
  writeFileSync(logFile, '2026/11/23 06:00:00.000100 soakd starting pid=4242 version=0.9.3 listen=:8080\n');
  const seen = hookRequests(opts.standin);
  const daemon = startDaemon(
    opts.cli,
    {
      GITLAB_URL: opts.standin.url,
      GITLAB_TOKEN: opts.standin.token,
      GITLAB_PROJECT: 'soak/svc',
      RACEWATCH_PATHS: logFile,
      RACEWATCH_STATE_DIR: path.join(opts.dir, 'state'),
      RACEWATCH_COMMENT_WINDOW: '0',
    },
    'latency',
  );
  const writer = openSync(logFile, 'a');
  let ok = false;
  try {
    await waitFollowing(daemon, 'latency');
    const knownIds = new Set<string>();
    const head = `${opts.report.lines.slice(0, -1).join('\n')}\n`;
    const tail = `${opts.report.lines.at(-1)!}\n`;

    /** Appends the report, its closing line last, and waits for the POST that carries one new occurrence. */
    const sighting = async (label: string): Promise<{ ms: number; firstMs: number; sequence: string; path: string }> => {
      const from = seen.length;
      writeSync(writer, head);
      const t0 = performance.now();
      writeSync(writer, tail);
      let hit: { at: number; request: RecordedRequest; ids: string[]; index: number } | undefined;
      await waitUntil(
        () => {
          for (let i = from; i < seen.length && !hit; i += 1) {
            const ids = occurrenceIds(seen[i]!.request).filter((id) => !knownIds.has(id));
            if (ids.length > 0) hit = { ...seen[i]!, ids, index: i };
          }
          return hit !== undefined;
        },
        daemon,
        'latency',
        `${label} to reach the GitLab stand-in`,
        60_000,
      );
      if (hit!.ids.length !== 1) throw new BenchFailure(`${label}: the request carried ${hit!.ids.length} new occurrences, expected 1`);
      const mine = seen.slice(from, hit!.index + 1);
      const firstMs = mine[0]!.at - t0;
      const sequence = mine.map((s) => shortRequest(s.request)).join(', ');
      for (const id of hit!.ids) knownIds.add(id);
      // Let the daemon finish that delivery (the answer, its state file) before the next sighting.
      let count = seen.length;
      let quietSince = performance.now();
      while (performance.now() - quietSince < 100) {
        await sleep(10);
        if (seen.length !== count) {
          count = seen.length;
          quietSince = performance.now();
        }
      }
      return { ms: hit!.at - t0, firstMs, sequence, path: shortRequest(hit!.request) };
    };

    opts.progress('latency: first sighting (files the issue)');
    const warm = await sighting('the first sighting');
    const samplesMs: number[] = [];
    const firstRequestMs: number[] = [];
    const sequences: Record<string, number> = {};
    const samplePaths: Record<string, number> = {};
    for (let i = 1; i <= opts.samples; i += 1) {
      if (i % 10 === 0 || i === 1) opts.progress(`latency: sample ${i}/${opts.samples}`);
      const s = await sighting(`sample ${i}`);
      samplesMs.push(s.ms);
      firstRequestMs.push(s.firstMs);
      sequences[s.sequence] = (sequences[s.sequence] ?? 0) + 1;
      samplePaths[s.path] = (samplePaths[s.path] ?? 0) + 1;
    }
    assertAlive(daemon, 'latency');
    ok = true;
    return { samplesMs, firstRequestMs, sequences, warmupMs: warm.ms, warmupPath: warm.path, samplePaths };
  } finally {
    closeSync(writer);
    await stopAfter(daemon, ok);
  }
}

export interface IdleResult {
  mode: 'events' | 'poll';
  /** Lines per second appended to one of the files meanwhile (0: idle). */
  busyLinesPerSecond: number;
  files: number;
  followed: number | null;
  cpuSeconds: number;
  wallSeconds: number;
  /** % of one core. */
  percent: number;
  /** What everything else on the machine (not the daemon, not the bench) used meanwhile, % of one core. */
  othersPercent: number;
}

const quietFileName = (i: number) => `quiet-${String(i).padStart(4, '0')}.log`;

export function writeQuietFiles(dir: string, count: number): void {
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < count; i += 1) {
    const lines: string[] = [];
    for (let j = 0; j < 20; j += 1) {
      lines.push(
        `2026/11/23 06:${String(j).padStart(2, '0')}:00.000${String(i % 1000).padStart(3, '0')} request served path=/api/v1/items/${i * 20 + j} status=200 bytes=5120 duration=3.2ms`,
      );
    }
    writeFileSync(path.join(dir, quietFileName(i)), `${lines.join('\n')}\n`);
  }
}

export async function benchIdle(opts: {
  cli: string;
  dir: string;
  stateDir: string;
  files: number;
  mode: 'events' | 'poll';
  standin: GitlabStandin;
  warmupMs: number;
  idleMs: number;
  /** Append this many ordinary lines per second to the first file throughout (0: keep all quiet). */
  busyLinesPerSecond?: number;
  progress: (text: string) => void;
}): Promise<IdleResult> {
  const busy = opts.busyLinesPerSecond ?? 0;
  const env: Record<string, string> = {
    GITLAB_URL: opts.standin.url,
    GITLAB_TOKEN: opts.standin.token,
    GITLAB_PROJECT: 'soak/svc',
    RACEWATCH_PATHS: path.join(opts.dir, '*.log'),
    RACEWATCH_STATE_DIR: opts.stateDir,
    RACEWATCH_COMMENT_WINDOW: '0',
  };
  if (opts.mode === 'poll') env.RACEWATCH_WATCH = 'poll';
  const what = `${busy > 0 ? 'busy' : 'idle'} (${opts.mode})`;
  const daemon = startDaemon(opts.cli, env, what);
  let ok = false;
  const writer = busy > 0 ? openSync(path.join(opts.dir, quietFileName(0)), 'a') : null;
  let written = 0;
  const writing =
    writer === null
      ? null
      : setInterval(() => writeSync(writer, `2026/11/23 07:00:00.000000 request served path=/api/v1/busy/${(written += 1)} status=200\n`), 1000 / busy);
  try {
    await waitFollowing(daemon, what);
    const line =
      daemon
        .output()
        .split('\n')
        .find((l) => l.includes('racewatch daemon following')) ?? '';
    const followed = /"files":(\d+)/.exec(line)?.[1];
    opts.progress(`${what}: warm-up ${opts.warmupMs / 1000} s`);
    await sleep(opts.warmupMs);
    assertAlive(daemon, what);
    opts.progress(`${what}: measuring ${opts.idleMs / 1000} s of quiet`);
    const cpu0 = cpuSeconds(daemon.pid);
    const machine0 = machineBusySeconds();
    const own0 = ownCpuSeconds();
    const t0 = performance.now();
    await sleep(opts.idleMs);
    const cpu1 = cpuSeconds(daemon.pid);
    const machine1 = machineBusySeconds();
    const own1 = ownCpuSeconds();
    const wallSeconds = (performance.now() - t0) / 1000;
    const others = Math.max(0, machine1 - machine0 - (cpu1 - cpu0) - (own1 - own0));
    assertAlive(daemon, what);
    const cpu = cpu1 - cpu0;
    ok = true;
    return {
      mode: opts.mode,
      busyLinesPerSecond: busy,
      files: opts.files,
      followed: followed === undefined ? null : Number(followed),
      cpuSeconds: cpu,
      wallSeconds,
      percent: (100 * cpu) / wallSeconds,
      othersPercent: (100 * others) / wallSeconds,
    };
  } finally {
    if (writing) clearInterval(writing);
    if (writer !== null) closeSync(writer);
    await stopAfter(daemon, ok);
  }
}

/** Stops the daemon; a failure to stop cleanly fails the bench unless it is already failing for another reason. */
async function stopAfter(daemon: Daemon, ok: boolean): Promise<void> {
  try {
    await daemon.stop();
  } catch (error) {
    if (ok) throw error;
  }
}
