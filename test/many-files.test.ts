// Issue 10, "Many files": the built daemon follows 25,000 log files with an open file limit of 1,024
// (`ulimit -n 1024`), in both watch modes, against the GitLab stand-in. Only the most recently written
// files hold a descriptor (RACEWATCH_MAX_OPEN_FILES, by default the limit minus 256): the rest are closed
// and reopened by device and inode when they are written again. Real race reports are appended to 100
// files spread over the set (the first listed were closed long before), then 1,000 other files are
// written so that those 100 are closed again, then a second report goes to a quarter of them: GitLab must
// hold every occurrence exactly once, the daemon must never hit EMFILE, and SIGTERM still ends it with 0.
import { appendFileSync, closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { killIfRunning, startDaemon, waitFor, type DaemonProcess } from './support/daemon.js';
import { audit, expectedOccurrences, waitUntilRecorded } from './support/delivery-audit.js';
import { startGitlabStandin, type GitlabStandin } from './support/gitlab-standin.js';
import { soakReportTexts } from './support/samples.js';

const FILES = 25_000;
const OPEN_FILE_LIMIT = 1024;
/** The default budget: the soft limit minus the reserve for everything else the daemon opens. */
const BUDGET = OPEN_FILE_LIMIT - 256;
const TARGETS = 100;
/** More than the budget: writing these closes every target again (least recently written first). */
const OTHERS = 1_000;
const PROJECT_ID = 42;
/** README: on SIGTERM the daemon tries one last delivery, at most 10 s. */
const STOP_BOUND_MS = 20_000;

const REPORT_TEXTS = soakReportTexts();
const NOISE = '2026/11/23 06:00:00.000000 request served path=/api/v1/items/1\n';

let standin: GitlabStandin;
let dir: string;
let daemon: DaemonProcess | null;

beforeEach(async () => {
  standin = await startGitlabStandin();
  dir = mkdtempSync(path.join(tmpdir(), 'racewatch-many-'));
  daemon = null;
});

afterEach(async () => {
  await killIfRunning(daemon);
  await standin.close();
  // MANY_FILES_KEEP=1 keeps the directory (the logs, the state, daemon.log with the daemon's output).
  if (process.env.MANY_FILES_KEEP) console.log(`[many-files] kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
});

const logPath = (n: number) => path.join(dir, 'logs', `f${String(n).padStart(5, '0')}.log`);

async function metric(port: string, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const value = new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1];
  if (value === undefined) throw new Error(`/metrics has no ${name}`);
  return Number(value);
}

async function waitForMetric(port: string, name: string, atLeast: number, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while ((await metric(port, name)) < atLeast) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (${name} < ${atLeast})`);
    await sleep(100);
  }
}

async function followManyFiles(watch: 'events' | 'poll'): Promise<void> {
  const timings: Record<string, number> = {};
  let mark = Date.now();
  const lap = (name: string) => {
    timings[name] = Date.now() - mark;
    mark = Date.now();
  };
  mkdirSync(path.join(dir, 'logs'));
  // Empty: start-up reads nothing. (An open and a close: writeFileSync with '' took 7 times as long.)
  for (let n = 0; n < FILES; n++) closeSync(openSync(logPath(n), 'w'));
  lap('create');

  daemon = startDaemon(
    {
      GITLAB_URL: standin.url,
      GITLAB_TOKEN: standin.token,
      GITLAB_PROJECT: 'soak/svc',
      RACEWATCH_STATE_DIR: path.join(dir, 'state'),
      RACEWATCH_PATHS: path.join(dir, 'logs', '*.log'),
      RACEWATCH_WATCH: watch,
      RACEWATCH_RECONCILE_INTERVAL: watch === 'poll' ? '500ms' : '2s',
      RACEWATCH_REPORT_TIMEOUT: '2s',
      RACEWATCH_COMMENT_WINDOW: '0',
      RACEWATCH_GITLAB_SETTLE: '1s',
      RACEWATCH_GITLAB_BACKOFF: '10ms',
      RACEWATCH_METRICS_PORT: '0',
    },
    ['sh', '-c', `ulimit -n ${OPEN_FILE_LIMIT} && exec "$@"`, 'sh'],
  );
  const running = daemon;
  await waitFor(() => running.output().includes('serving /healthz and /metrics') || running.child.exitCode !== null, 'the daemon to start', 60_000);
  expect(running.child.exitCode, running.output().slice(-3000)).toBeNull();
  const port = /"port":(\d+),"msg":"serving \/healthz/.exec(running.output())![1]!;
  expect(await metric(port, 'racewatch_files_followed')).toBe(FILES);
  // The default budget, and all of it in use: most files were closed at listing, the first ones first.
  expect(running.output()).toContain(`"maxOpenFiles":${BUDGET},`);
  expect(await metric(port, 'racewatch_files_open')).toBe(BUDGET);
  lap('start');

  // Spread over the whole set: the first ones were closed long ago, the last ones are still open.
  const targets = Array.from({ length: TARGETS }, (_, i) => Math.round((i * (FILES - 1)) / (TARGETS - 1)));
  const targetSet = new Set(targets);
  let req = 0;
  const appendReport = (n: number) => {
    appendFileSync(logPath(n), `req ${req}\n${REPORT_TEXTS[req % REPORT_TEXTS.length]!}`);
    req += 1;
  };
  for (const n of targets) appendReport(n);
  const files = targets.map(logPath);
  const first = await expectedOccurrences(files);
  expect(first).toHaveLength(TARGETS);
  expect(
    await waitUntilRecorded(
      standin,
      first.map((o) => o.id),
      45_000,
      PROJECT_ID,
    ),
    'every first report in GitLab',
  ).toBe(true);
  lap('first');

  // Written after the targets, and more of them than the budget: every target is closed again.
  const bytesBefore = await metric(port, 'racewatch_bytes_read_total');
  const others = Array.from({ length: FILES }, (_, n) => n)
    .filter((n) => n % 25 === 12 && !targetSet.has(n))
    .slice(0, OTHERS);
  expect(others).toHaveLength(OTHERS);
  for (const n of others) appendFileSync(logPath(n), NOISE);
  await waitForMetric(port, 'racewatch_bytes_read_total', bytesBefore + OTHERS * NOISE.length, 'the other files to be read');
  expect(await metric(port, 'racewatch_files_open')).toBeLessThanOrEqual(BUDGET);
  lap('others');

  for (const n of targets.filter((_, i) => i % 4 === 0)) appendReport(n);
  const all = await expectedOccurrences(files);
  expect(all).toHaveLength(TARGETS + TARGETS / 4);
  const ids = all.map((o) => o.id);
  expect(await waitUntilRecorded(standin, ids, 45_000, PROJECT_ID), 'every report in GitLab').toBe(true);
  // A late second filing would come from a file read again: give it a moment to show.
  await sleep(1_000);
  expect(await metric(port, 'racewatch_files_open')).toBeLessThanOrEqual(BUDGET);
  lap('second');

  running.child.kill('SIGTERM');
  const status = await Promise.race([running.exited, sleep(STOP_BOUND_MS).then(() => 'still running' as const)]);
  lap('stop');
  await standin.whenIdle();
  console.log(
    `[many-files] ${watch}: ${Object.entries(timings)
      .map(([k, v]) => `${k}=${v}ms`)
      .join(' ')}`,
  );

  const output = running.output();
  if (process.env.MANY_FILES_KEEP) writeFileSync(path.join(dir, 'daemon.log'), output);
  expect(output).not.toMatch(/EMFILE|ENFILE|too many open files/);
  const result = audit(standin, ids, PROJECT_ID);
  expect({ lost: result.lost, twice: result.twice, unexpected: result.unexpected }).toEqual({ lost: [], twice: [], unexpected: [] });
  expect(result.recorded).toBe(ids.length);
  expect(status, output.slice(-3000)).toBe(0);
}

describe('25,000 followed files under a 1,024 open file limit', () => {
  for (const watch of ['events', 'poll'] as const) {
    it(`${watch}: every report in GitLab once, no EMFILE, exit 0 on SIGTERM`, () => followManyFiles(watch), 150_000);
  }
});
