import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  closeSync,
  existsSync,
  readdirSync,
  symlinkSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { jsonLines, racewatch } from './support/cli.js';
import { LIFETIMES, REPORTS_PER_LIFETIME, recordedOccurrences, killIfRunning, startDaemon, waitFor, type DaemonProcess } from './support/daemon.js';
import { startGitlabStandin, type GitlabStandin } from './support/gitlab-standin.js';

let standin: GitlabStandin;
let dir: string;
let daemon: DaemonProcess | null;

beforeEach(async () => {
  standin = await startGitlabStandin();
  dir = mkdtempSync(path.join(tmpdir(), 'racewatch-daemon-'));
  mkdirSync(path.join(dir, 'logs'));
  daemon = null;
});
afterEach(async () => {
  await killIfRunning(daemon);
  await standin.close();
});

const log = (name = 'soakd.log') => path.join(dir, 'logs', name);
const recorded = () => recordedOccurrences(standin);
const expectEachOnce = (expected: number) => {
  const ids = recorded();
  expect(ids).toHaveLength(expected);
  expect(new Set(ids).size).toBe(expected);
};

function envFor(watch: 'events' | 'poll', extra: Record<string, string> = {}): Record<string, string> {
  return {
    GITLAB_URL: standin.url,
    GITLAB_TOKEN: standin.token,
    GITLAB_PROJECT: 'soak/svc',
    RACEWATCH_STATE_DIR: path.join(dir, 'state'),
    RACEWATCH_PATHS: path.join(dir, 'logs', 'soakd.log*'),
    RACEWATCH_WATCH: watch,
    RACEWATCH_RECONCILE_INTERVAL: watch === 'poll' ? '150ms' : '2s',
    RACEWATCH_REPORT_TIMEOUT: '1s',
    RACEWATCH_DRAIN_TIME: '1s',
    RACEWATCH_COMMENT_WINDOW: '0',
    RACEWATCH_GITLAB_BACKOFF: '10ms',
    // The stand-in carries out a write at once or never: a short settle time is enough to find it.
    RACEWATCH_GITLAB_SETTLE: '1s',
    ...extra,
  };
}

async function following(watch: 'events' | 'poll', extra: Record<string, string> = {}): Promise<DaemonProcess> {
  daemon = startDaemon(envFor(watch, extra));
  await waitFor(() => daemon!.output().includes('racewatch daemon following'), 'the daemon to start');
  return daemon;
}

/** The daemon's stderr alone (output() has stdout too), from now on: call it right after starting. */
function stderrOf(process: DaemonProcess): () => string {
  let text = '';
  process.child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return () => text;
}

/** The exit status, or a failure (after SIGKILL) if the daemon is still running after `ms`: a hang is a bug here. */
async function exitWithin(process: DaemonProcess, ms: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'running'>((resolve) => (timer = setTimeout(() => resolve('running'), ms)));
  const outcome = await Promise.race([process.exited, timeout]);
  clearTimeout(timer);
  if (outcome === 'running') {
    process.child.kill('SIGKILL');
    await process.exited;
    throw new Error(`the daemon was still running after ${ms} ms:\n${process.output().slice(-3000)}`);
  }
  return outcome;
}

/** Lock records in the state directory that are not released (a removed one is released too). */
function heldLocks(stateDir: string): string[] {
  if (!existsSync(stateDir)) return [];
  return readdirSync(stateDir)
    .filter((name) => /\.lock(\.\d+)?$/.test(name))
    .filter((name) => {
      try {
        return (JSON.parse(readFileSync(path.join(stateDir, name), 'utf8')) as { released?: unknown }).released !== true;
      } catch {
        return true;
      }
    });
}

/**
 * The kernel's inotify watch limit, for the daemon alone: in a user namespace of its own, where root may
 * set /proc/sys/user/max_inotify_watches (the same limit as fs.inotify.max_user_watches, counted per
 * namespace). The machine's fs.inotify.max_user_watches, which every other test and process shares, is
 * never touched.
 */
const WATCH_LIMIT = 4;
const underWatchLimit = (limit: number) => [
  'unshare',
  '--user',
  '--map-root-user',
  'sh',
  '-c',
  `echo ${limit} > /proc/sys/user/max_inotify_watches && exec "$@"`,
  'sh',
];
const watchLimitSettable = (() => {
  const probe = spawnSync(underWatchLimit(WATCH_LIMIT)[0]!, [...underWatchLimit(WATCH_LIMIT).slice(1), 'cat', '/proc/sys/user/max_inotify_watches'], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  return probe.status === 0 && probe.stdout.trim() === String(WATCH_LIMIT);
})();
if (!watchLimitSettable) {
  console.warn('daemon: a user namespace with its own inotify watch limit is refused here (unshare --user); the watch limit test is skipped');
}

for (const watch of ['events', 'poll'] as const) {
  describe(`racewatch daemon (${watch === 'events' ? 'file events' : 'polling only'})`, () => {
    it('files reports as they are appended, and every new batch of sightings becomes a comment (RACEWATCH_COMMENT_WINDOW=0)', async () => {
      writeFileSync(log(), '');
      await following(watch);
      appendFileSync(log(), LIFETIMES[0]!);
      await waitFor(() => recorded().length === REPORTS_PER_LIFETIME, 'the first reports');
      expect(standin.issues(42)).toHaveLength(2);
      appendFileSync(log(), LIFETIMES[1]!);
      await waitFor(() => recorded().length === 2 * REPORTS_PER_LIFETIME, 'the second reports');
      expect(standin.issues(42).every((issue) => standin.notes(42, issue.iid).length === 1)).toBe(true);
      expectEachOnce(2 * REPORTS_PER_LIFETIME);
    });

    it('reads a file that appears while running from byte 0, however small (a GORACE log_path file)', async () => {
      await following(watch);
      const reportOnly = `${LIFETIMES[0]!.split('\n').slice(2, 30).join('\n')}\n`;
      writeFileSync(log('soakd.log.race.4242'), reportOnly);
      await waitFor(() => recorded().length === 1, 'the report of the new file');
    });

    it('rename + create rotation while the writer still writes to the old file: each report once', async () => {
      const writer = openSync(log(), 'a');
      await following(watch);
      writeSync(writer, LIFETIMES[0]!);
      await waitFor(() => recorded().length === REPORTS_PER_LIFETIME, 'reports before rotation');
      renameSync(log(), log('soakd.log.1'));
      writeSync(writer, LIFETIMES[1]!);
      closeSync(writer);
      writeFileSync(log(), LIFETIMES[2]!);
      await waitFor(() => recorded().length >= 3 * REPORTS_PER_LIFETIME, 'reports after rotation');
      expectEachOnce(3 * REPORTS_PER_LIFETIME);
    });

    it('several rotations faster than the polling interval lose and repeat nothing', async () => {
      writeFileSync(log(), '');
      await following(watch, { RACEWATCH_RECONCILE_INTERVAL: '1s' });
      for (let i = 0; i < 3; i += 1) {
        appendFileSync(log(), LIFETIMES[i]!);
        renameSync(log(), log(`soakd.log.${i + 1}`));
        writeFileSync(log(), '');
      }
      await waitFor(() => recorded().length >= 3 * REPORTS_PER_LIFETIME, 'all reports');
      expectEachOnce(3 * REPORTS_PER_LIFETIME);
    });

    it('copytruncate with an O_APPEND writer: a report written after the truncate, smaller than before, is read at the next check', async () => {
      writeFileSync(log(), LIFETIMES[0]! + LIFETIMES[1]!);
      await following(watch, { RACEWATCH_RECONCILE_INTERVAL: '1s' });
      await waitFor(() => recorded().length === 2 * REPORTS_PER_LIFETIME, 'reports before the copy');
      copyFileSync(log(), log('soakd.log.1'));
      // The copy changes the directory, which makes the next pass stat every file; the truncate does not.
      await new Promise((resolve) => setTimeout(resolve, 2500));
      truncateSync(log(), 0);
      appendFileSync(log(), LIFETIMES[2]!);
      // The periodic stat of every file comes only every 15 intervals (15 s here): this bound is below it.
      await waitFor(() => recorded().length >= 3 * REPORTS_PER_LIFETIME, 'the report after the truncate', 10_000);
      expectEachOnce(3 * REPORTS_PER_LIFETIME);
    });

    it('copytruncate, with the writer leaving NULs before its next write: old reports once, new ones read', async () => {
      writeFileSync(log(), LIFETIMES[0]!);
      await following(watch);
      await waitFor(() => recorded().length === REPORTS_PER_LIFETIME, 'reports before the copy');
      copyFileSync(log(), log('soakd.log.1'));
      const size = readFileSync(log()).length;
      truncateSync(log(), 0);
      // A writer without O_APPEND keeps its offset: the file becomes sparse up to it.
      const writer = openSync(log(), 'r+');
      writeSync(writer, LIFETIMES[1]!, size);
      closeSync(writer);
      await waitFor(() => recorded().length >= 2 * REPORTS_PER_LIFETIME, 'reports after copytruncate');
      expectEachOnce(2 * REPORTS_PER_LIFETIME);
      expect(standin.issues(42).every((issue) => !(issue.description ?? '').includes('\0'))).toBe(true);
    });

    it('a rotated file compressed to .gz that the glob matches is never read again', async () => {
      writeFileSync(log(), LIFETIMES[0]!);
      await following(watch);
      await waitFor(() => recorded().length === REPORTS_PER_LIFETIME, 'first reports');
      writeFileSync(log('soakd.log.1.gz'), gzipSync(readFileSync(log())));
      rmSync(log());
      writeFileSync(log(), LIFETIMES[1]!);
      await waitFor(() => recorded().length >= 2 * REPORTS_PER_LIFETIME, 'reports of the new file');
      expectEachOnce(2 * REPORTS_PER_LIFETIME);
    });

    it('a report whose first half is in the rotated file and second half in the new one is reported once, whole', async () => {
      const lines = LIFETIMES[0]!.split('\n');
      const previous = lines.findIndex((line) => line.startsWith('Previous'));
      const writer = openSync(log(), 'a');
      await following(watch, { RACEWATCH_REPORT_TIMEOUT: '10s' });
      writeSync(writer, `${lines.slice(0, previous + 2).join('\n')}\n`);
      closeSync(writer);
      await new Promise((resolve) => setTimeout(resolve, 600));
      renameSync(log(), log('soakd.log.1'));
      writeFileSync(log(), `${lines.slice(previous + 2).join('\n')}${LIFETIMES[1]!}`);
      await waitFor(() => recorded().length >= 2 * REPORTS_PER_LIFETIME, 'all reports');
      expectEachOnce(2 * REPORTS_PER_LIFETIME);
      expect(standin.issues(42).some((issue) => (issue.description ?? '').includes('cut off in the log'))).toBe(false);
    });

    it('a report whose writer finishes it through its old descriptor after the rename is reported once, whole', async () => {
      const lines = LIFETIMES[0]!.split('\n');
      const previous = lines.findIndex((line) => line.startsWith('Previous'));
      writeFileSync(log(), '');
      await following(watch, { RACEWATCH_REPORT_TIMEOUT: '10s' });
      const writer = openSync(log(), 'a');
      writeSync(writer, `${lines.slice(0, previous + 2).join('\n')}\n`);
      await new Promise((resolve) => setTimeout(resolve, 600));
      renameSync(log(), log('soakd.log.1'));
      // The new file begins with output of its own: a line outside any report, then a whole report.
      writeFileSync(log(), `restarted\n${LIFETIMES[1]!}`);
      await new Promise((resolve) => setTimeout(resolve, 600));
      writeSync(writer, `${lines.slice(previous + 2).join('\n')}\n`);
      closeSync(writer);
      await waitFor(() => recorded().length >= 2 * REPORTS_PER_LIFETIME, 'all reports');
      expectEachOnce(2 * REPORTS_PER_LIFETIME);
      expect(standin.issues(42).some((issue) => (issue.description ?? '').includes('cut off in the log'))).toBe(false);
    });

    it('a single-file path renamed several times between two checks: every generation is read once (found as its siblings)', async () => {
      writeFileSync(log(), '');
      await following(watch, { RACEWATCH_PATHS: log(), RACEWATCH_RECONCILE_INTERVAL: '1s' });
      for (let i = 0; i < 3; i += 1) {
        appendFileSync(log(), LIFETIMES[i]!);
        renameSync(log(), log(`soakd.log.${i + 1}`));
        writeFileSync(log(), '');
      }
      await waitFor(() => recorded().length >= 3 * REPORTS_PER_LIFETIME, 'the reports of every generation');
      expectEachOnce(3 * REPORTS_PER_LIFETIME);
    });

    it('a report split by a rotation made while the daemon was stopped is reported once, whole, after the restart', async () => {
      const lines = LIFETIMES[0]!.split('\n');
      const previous = lines.findIndex((line) => line.startsWith('Previous'));
      writeFileSync(log(), `${lines.slice(0, previous + 2).join('\n')}\n`);
      await following(watch, { RACEWATCH_PATHS: log(), RACEWATCH_REPORT_TIMEOUT: '10s' });
      daemon!.child.kill('SIGTERM');
      await daemon!.exited;
      // The writer reopened its path after the rotation: the rest is at the start of the new file.
      renameSync(log(), log('soakd.log.1'));
      writeFileSync(log(), `${lines.slice(previous + 2).join('\n')}${LIFETIMES[1]!}`);
      await following(watch, { RACEWATCH_PATHS: log(), RACEWATCH_REPORT_TIMEOUT: '10s' });
      await waitFor(() => recorded().length >= 2 * REPORTS_PER_LIFETIME, 'all reports');
      expectEachOnce(2 * REPORTS_PER_LIFETIME);
      expect(standin.issues(42).some((issue) => (issue.description ?? '').includes('cut off in the log'))).toBe(false);
    });

    it('a symlink moved to a new target is followed, and the old target is drained', async () => {
      writeFileSync(log('a.log'), LIFETIMES[0]!);
      symlinkSync('a.log', log('current.log'));
      await following(watch, { RACEWATCH_PATHS: log('current.log') });
      await waitFor(() => recorded().length === REPORTS_PER_LIFETIME, 'reports of the first target');
      writeFileSync(log('b.log'), LIFETIMES[1]!);
      symlinkSync('b.log', log('next.log'));
      renameSync(log('next.log'), log('current.log'));
      appendFileSync(log('a.log'), LIFETIMES[2]!);
      await waitFor(() => recorded().length >= 3 * REPORTS_PER_LIFETIME, 'reports of both targets');
      expectEachOnce(3 * REPORTS_PER_LIFETIME);
    });

    it('a file replaced while stopped by one with the same first bytes (and maybe the same inode) is read from its start', async () => {
      writeFileSync(log(), LIFETIMES[0]!);
      await following(watch);
      await waitFor(() => recorded().length === REPORTS_PER_LIFETIME, 'first reports');
      daemon!.child.kill('SIGTERM');
      await daemon!.exited;
      // The first KiB as before (so the saved identity matches), then other content, shorter than the saved position.
      const sameStart = LIFETIMES[0]!.slice(0, LIFETIMES[0]!.indexOf('\n', 1024) + 1);
      rmSync(log());
      writeFileSync(log(), `${sameStart}${LIFETIMES[1]!}${LIFETIMES[2]!}`);
      expect(sameStart.length + LIFETIMES[1]!.length).toBeGreaterThan(LIFETIMES[0]!.length);
      await following(watch);
      // 6 complete reports, plus the report cut off where the copied first KiB ends.
      await waitFor(() => recorded().length >= 3 * REPORTS_PER_LIFETIME + 1, 'reports of the replacement');
      expect(daemon!.output()).toContain('reading it from the start');
      expectEachOnce(3 * REPORTS_PER_LIFETIME + 1);
    });

    it('follows a path deleted and created again', async () => {
      writeFileSync(log(), LIFETIMES[0]!);
      await following(watch);
      await waitFor(() => recorded().length === REPORTS_PER_LIFETIME, 'first reports');
      rmSync(log());
      await new Promise((resolve) => setTimeout(resolve, 300));
      writeFileSync(log(), LIFETIMES[1]!);
      await waitFor(() => recorded().length >= 2 * REPORTS_PER_LIFETIME, 'reports of the re-created file');
      expectEachOnce(2 * REPORTS_PER_LIFETIME);
    });

    it('a report left unfinished is filed as cut off after the timeout, and its late end makes no second report', async () => {
      const lines = LIFETIMES[0]!.split('\n');
      const previous = lines.findIndex((line) => line.startsWith('Previous'));
      writeFileSync(log(), '');
      await following(watch);
      appendFileSync(log(), `${lines.slice(0, previous + 2).join('\n')}\n`);
      await waitFor(() => recorded().length === 1, 'the cut-off report');
      expect(standin.issues(42)[0]!.description).toContain('cut off in the log');
      appendFileSync(log(), `${lines.slice(previous + 2, 30).join('\n')}\n`);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(recorded()).toHaveLength(1);
    });
  });
}

describe('racewatch daemon lifecycle', () => {
  it('polling: a new file is found from its directory changing at the next interval, not only at the periodic listing', async () => {
    await following('poll', { RACEWATCH_RECONCILE_INTERVAL: '1s' });
    const reportOnly = `${LIFETIMES[0]!.split('\n').slice(2, 30).join('\n')}\n`;
    writeFileSync(log('soakd.log.race.4242'), reportOnly);
    // The listed directories are checked every interval (1 s); the paths are listed anyway only every 150th.
    await waitFor(() => recorded().length === 1, 'the report of the new file', 10_000);
  });

  it("file events: a report's closing line written right after its body is read at once, not at the next interval", async () => {
    writeFileSync(log(), '');
    await following('events', { RACEWATCH_RECONCILE_INTERVAL: '60s' });
    const lines = LIFETIMES[0]!.split('\n');
    const closing = lines.indexOf('==================', lines.indexOf('WARNING: DATA RACE'));
    const writer = openSync(log(), 'a');
    writeSync(writer, `${lines.slice(0, closing).join('\n')}\n`);
    // After the body's change event, chokidar drops the next ones of this path for 50 ms.
    await new Promise((resolve) => setTimeout(resolve, 15));
    writeSync(writer, `${lines[closing]}\n`);
    closeSync(writer);
    await waitFor(() => recorded().length === 1, 'the report, before the 60 s interval', 10_000);
  });

  it('RACEWATCH_START_AT=end skips what a log already holds, and later reports carry their true line numbers', async () => {
    writeFileSync(log(), LIFETIMES[0]!);
    await following('events', { RACEWATCH_START_AT: 'end' });
    appendFileSync(log(), LIFETIMES[1]!);
    await waitFor(() => recorded().length === REPORTS_PER_LIFETIME, 'the reports appended after the start');
    // A one-off scan of the whole file numbers the lines from its start: the daemon must agree.
    const appended = jsonLines(racewatch(['scan', '--json', log()]).stdout).slice(REPORTS_PER_LIFETIME);
    const firstLineOf = new Map<unknown, number>();
    for (const o of appended) if (!firstLineOf.has(o.fingerprint)) firstLineOf.set(o.fingerprint, o.line as number);
    const firstSeenLines = standin.issues(42).map((issue) => Number(/\*\*First seen:\*\*.* line (\d+)/.exec(issue.description ?? '')![1]));
    const ascending = (a: number, b: number) => a - b;
    expect(firstSeenLines.sort(ascending)).toEqual([...firstLineOf.values()].sort(ascending));
    expect(Math.min(...firstSeenLines)).toBeGreaterThan(LIFETIMES[0]!.split('\n').length - 1);
  });

  it('serves /healthz and Prometheus /metrics on a loopback port when RACEWATCH_METRICS_PORT is set', async () => {
    writeFileSync(log(), LIFETIMES[0]!);
    await following('events', { RACEWATCH_METRICS_PORT: '0' });
    await waitFor(() => recorded().length === REPORTS_PER_LIFETIME, 'first reports');
    await waitFor(() => daemon!.output().includes('serving /healthz and /metrics'), 'the metrics endpoint');
    const port = /"port":(\d+),"msg":"serving \/healthz/.exec(daemon!.output())![1];
    const health = (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as Record<string, unknown>;
    expect(health).toMatchObject({ status: 'ok', filesFollowed: 1 });
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/^racewatch_reports_seen_total 3$/m);
    expect(metrics).toMatch(/^racewatch_issues_created_total 2$/m);
    expect(metrics).toMatch(/^racewatch_files_followed 1$/m);
    expect(metrics).toMatch(new RegExp(`^racewatch_bytes_read_total ${LIFETIMES[0]!.length}$`, 'm'));
    expect(metrics).toMatch(/^racewatch_seconds_since_last_read \d/m);
  });

  it('refuses to serve metrics on a non-loopback address', async () => {
    daemon = startDaemon(envFor('events', { RACEWATCH_METRICS_PORT: '9100', RACEWATCH_METRICS_HOST: '0.0.0.0' }));
    expect(await daemon.exited).toBe(2);
    expect(daemon.output()).toContain('RACEWATCH_METRICS_HOST: must be a loopback address');
  });

  it('refuses a metrics host that is not loopback once resolved (127.evil does not resolve): exit 2, one line, nothing locked', async () => {
    daemon = startDaemon(envFor('events', { RACEWATCH_METRICS_PORT: '0', RACEWATCH_METRICS_HOST: '127.evil' }));
    const stderr = stderrOf(daemon);
    expect(await exitWithin(daemon, 20_000)).toBe(2);
    expect(stderr().trimEnd().split('\n')).toEqual([expect.stringContaining('RACEWATCH_METRICS_HOST: cannot resolve "127.evil"')]);
    expect(daemon.output()).not.toMatch(/^ {4}at /m);
    expect(heldLocks(path.join(dir, 'state'))).toEqual([]);
  });

  it('serves metrics on a name that resolves to loopback only (localhost), on the address it checked', async () => {
    writeFileSync(log(), '');
    await following('events', { RACEWATCH_METRICS_PORT: '0', RACEWATCH_METRICS_HOST: 'localhost' });
    const served = /"host":"localhost","address":"([^"]+)","port":(\d+),"msg":"serving \/healthz/.exec(daemon!.output());
    expect(['127.0.0.1', '::1']).toContain(served?.[1]);
    const url = `http://${served![1]!.includes(':') ? `[${served![1]}]` : served![1]}:${served![2]}/healthz`;
    expect(await (await fetch(url)).json()).toMatchObject({ status: 'ok' });
  });

  it('a metrics port in use: exit 2 with one line naming the port, the locks released, no temporary file; a restart files each report once', async () => {
    writeFileSync(log(), LIFETIMES[0]!);
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const port = (blocker.address() as AddressInfo).port;
      daemon = startDaemon(envFor('events', { RACEWATCH_METRICS_PORT: String(port) }));
      const stderr = stderrOf(daemon);
      expect(await exitWithin(daemon, 30_000)).toBe(2);
      const lines = stderr().trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`127.0.0.1:${port}`);
      expect(lines[0]).toContain('RACEWATCH_METRICS_PORT');
      expect(daemon.output()).not.toMatch(/^ {4}at /m);
      const state = path.join(dir, 'state');
      expect(readdirSync(state).filter((name) => /\.lock\.\d+$/.test(name)).length).toBeGreaterThan(0);
      expect(heldLocks(state)).toEqual([]);
      expect(readdirSync(state).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
    // What the failed start read is pending or filed, and its positions saved: nothing is lost or repeated.
    await following('events');
    await waitFor(() => recorded().length >= REPORTS_PER_LIFETIME, 'the reports, after a restart without the port clash');
    expectEachOnce(REPORTS_PER_LIFETIME);
  });

  it('a corrupt positions file stops the daemon with exit 2 naming the file, and files nothing', async () => {
    writeFileSync(log(), LIFETIMES[0]!);
    mkdirSync(path.join(dir, 'state'), { recursive: true });
    writeFileSync(path.join(dir, 'state', 'files.json'), '');
    daemon = startDaemon(envFor('events'));
    expect(await daemon.exited).toBe(2);
    expect(daemon.output()).toContain('files.json');
    expect(standin.issues(42)).toHaveLength(0);
  });

  it('SIGTERM: stops, saves its state, logs a summary and exits 0; a restart files nothing twice', async () => {
    writeFileSync(log(), LIFETIMES[0]!);
    await following('events');
    await waitFor(() => recorded().length === REPORTS_PER_LIFETIME, 'first reports');
    daemon!.child.kill('SIGTERM');
    expect(await daemon!.exited).toBe(0);
    expect(daemon!.output()).toContain('racewatch daemon stopped');
    appendFileSync(log(), LIFETIMES[1]!);
    await following('events');
    await waitFor(() => recorded().length >= 2 * REPORTS_PER_LIFETIME, 'reports written while stopped');
    expectEachOnce(2 * REPORTS_PER_LIFETIME);
  });

  it.skipIf(!watchLimitSettable)(
    'file events past the inotify watch limit: one warning naming the limit and RACEWATCH_WATCH=poll, and every file still read',
    async () => {
      const files = Array.from({ length: 3 * WATCH_LIMIT }, (_, i) => log(`svc${String(i).padStart(2, '0')}.log`));
      for (const file of files) writeFileSync(file, '');
      daemon = startDaemon(
        envFor('events', { RACEWATCH_PATHS: path.join(dir, 'logs', 'svc*.log'), RACEWATCH_RECONCILE_INTERVAL: '500ms' }),
        underWatchLimit(WATCH_LIMIT),
      );
      await waitFor(() => daemon!.output().includes('racewatch daemon following') || daemon!.child.exitCode !== null, 'the daemon to start');
      expect(daemon.child.exitCode).toBeNull();
      const warnings = jsonLines(daemon.output()).filter((line) => String(line.error ?? '').includes('inotify watch limit'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({ level: 40 });
      expect(warnings[0]!.error).toContain('fs.inotify.max_user_watches');
      expect(warnings[0]!.error).toContain('RACEWATCH_WATCH=poll');
      // Most of these files have no watch: the periodic checks read them all the same.
      for (const [i, lifetime] of LIFETIMES.entries()) appendFileSync(files[files.length - 1 - i * WATCH_LIMIT]!, lifetime);
      await waitFor(() => recorded().length >= 3 * REPORTS_PER_LIFETIME, 'the reports of files past the limit', 20_000);
      expectEachOnce(3 * REPORTS_PER_LIFETIME);
      daemon.child.kill('SIGTERM');
      expect(await exitWithin(daemon, 30_000)).toBe(0);
      expect(jsonLines(daemon.output()).filter((line) => String(line.error ?? '').includes('inotify watch limit'))).toHaveLength(1);
    },
  );

  it('kill -9 at random moments with a live writer, 50 times: every report filed, none twice', async () => {
    const writer = openSync(log(), 'a');
    let written = 0;
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let round = 0; round < 50; round += 1) {
      daemon = startDaemon(envFor('events'));
      await new Promise((resolve) => setTimeout(resolve, 50 + random() * 250));
      writeSync(writer, LIFETIMES[round % 3]!);
      written += REPORTS_PER_LIFETIME;
      await new Promise((resolve) => setTimeout(resolve, random() * 300));
      daemon.child.kill('SIGKILL');
      await daemon.exited;
    }
    closeSync(writer);
    await following('events');
    await waitFor(() => recorded().length >= written, `${written} reports`, 60_000);
    expectEachOnce(written);
  }, 180_000);
});
