// A broken machine gets one sentence and the README's exit status, never a stack trace: the state
// directory is a file, read-only, or on a full disk. Full and read-only disks are small tmpfs mounts (CI
// runs as root); where mounting is refused those cases are skipped, saying why.
import { execFileSync } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { environmentErrorSentence } from '../src/cli/environment-errors.js';
import { racewatchAsync } from './support/cli.js';
import { recordedOccurrences, startDaemon, waitFor } from './support/daemon.js';
import { startGitlabStandin, type GitlabStandin } from './support/gitlab-standin.js';
import { SAMPLES_DIR } from './support/samples.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'racewatch-env-'));
const mounts: string[] = [];
let standin: GitlabStandin;

beforeEach(async () => {
  standin = await startGitlabStandin();
});
afterEach(() => standin.close());
afterAll(() => {
  for (const mount of mounts) execFileSync('umount', [mount]);
  rmSync(scratch, { recursive: true, force: true });
});

function tmpfs(options: string): string | null {
  const dir = mkdtempSync(path.join(scratch, 'mnt-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { stdio: 'ignore' });
  } catch {
    return null;
  }
  mounts.push(dir);
  return dir;
}
const mountRefused = tmpfs('size=64k') === null;
if (mountRefused) console.warn('environment-errors: mounting a tmpfs is refused here (not root?); the full and read-only disk cases are skipped');

/** Writes until the disk is full. */
function fillUp(file: string): void {
  try {
    for (;;) appendFileSync(file, Buffer.alloc(1024));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  }
}

const log = () => {
  const file = path.join(mkdtempSync(path.join(scratch, 'logs-')), 'svc.log');
  copyFileSync(path.join(SAMPLES_DIR, 'logs/soakd-restarts.log'), file);
  return file;
};
const env = (stateDir: string) => ({ GITLAB_URL: standin.url, GITLAB_TOKEN: standin.token, GITLAB_PROJECT: 'soak/svc', RACEWATCH_STATE_DIR: stateDir });

function expectOneSentence(result: { status: number; stderr: string }, pattern: RegExp): void {
  expect(result.status).toBe(2);
  expect(result.stderr).toMatch(pattern);
  expect(result.stderr).not.toMatch(/^\s+at /m);
  expect(result.stderr).not.toContain('Node.js v');
}

describe('a state directory racewatch cannot use', () => {
  it('a regular file in its place, or in its path: exit 2 naming it, for scan and sweep', async () => {
    const file = path.join(scratch, 'not-a-dir');
    writeFileSync(file, '');
    for (const command of ['scan', 'sweep']) {
      expectOneSentence(await racewatchAsync([command, log()], env(file)), new RegExp(`${file}: it exists and is not a directory`));
      expectOneSentence(await racewatchAsync([command, log()], env(path.join(file, 'sub'))), /a part of the path is a file, not a directory/);
    }
    expect(standin.requests).toEqual([]);
  });

  it.skipIf(mountRefused)('a read-only filesystem: exit 2 naming the directory and the setting', async () => {
    const readOnly = tmpfs('ro,size=64k')!;
    expectOneSentence(await racewatchAsync(['sweep', log()], env(readOnly)), /read-only \(choose a writable RACEWATCH_STATE_DIR\)/);
  });

  it.skipIf(mountRefused)('a full disk: exit 2 saying so; once there is room the next sweep files every report once', async () => {
    const small = tmpfs('size=64k')!;
    const stateDir = path.join(small, 'state');
    mkdirSync(stateDir);
    const filler = path.join(small, 'filler');
    fillUp(filler);
    const file = log();
    expectOneSentence(await racewatchAsync(['sweep', file], env(stateDir)), /the disk is full/);
    rmSync(filler);
    const next = await racewatchAsync(['sweep', file], env(stateDir));
    expect(next.status).toBe(0);
    const ids = recordedOccurrences(standin);
    expect(ids.length).toBe(9);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it.skipIf(mountRefused)(
    'the daemon on a disk that fills up stops with exit 2 and one line, and a restart with room files every report once',
    async () => {
      const small = tmpfs('size=64k')!;
      const stateDir = path.join(small, 'state');
      mkdirSync(stateDir);
      const file = path.join(mkdtempSync(path.join(scratch, 'logs-')), 'svc.log');
      writeFileSync(file, '');
      const daemonEnv = {
        ...env(stateDir),
        RACEWATCH_PATHS: file,
        RACEWATCH_RECONCILE_INTERVAL: '200ms',
        RACEWATCH_GITLAB_SETTLE: '1s',
        RACEWATCH_COMMENT_WINDOW: '0',
      };
      const daemon = startDaemon(daemonEnv);
      await waitFor(() => daemon.output().includes('racewatch daemon following'), 'the daemon to start');
      const filler = path.join(small, 'filler');
      fillUp(filler);
      appendFileSync(file, readFileSync(path.join(SAMPLES_DIR, 'logs/soakd-restarts.log')));
      expect(await daemon.exited).toBe(2);
      expect(daemon.output()).toMatch(/racewatch: cannot save state to .*: the disk is full/);
      expect(daemon.output()).not.toMatch(/^\s+at /m);
      rmSync(filler);
      const again = startDaemon(daemonEnv);
      await waitFor(() => recordedOccurrences(standin).length >= 9, 'every report filed after the restart', 30_000);
      again.child.kill('SIGTERM');
      expect(await again.exited).toBe(0);
      const ids = recordedOccurrences(standin);
      expect(new Set(ids).size).toBe(ids.length);
    },
    60_000,
  );
});

describe('environmentErrorSentence', () => {
  // The shape Node gives a failed listen (net.Server 'error'): code, syscall, address and port, no path.
  const listenError = (code: string, port: number) =>
    Object.assign(new Error(`listen ${code}: 127.0.0.1:${port}`), { code, syscall: 'listen', address: '127.0.0.1', port });

  it('a port refused is worded for ports, a path refused for files', () => {
    expect(environmentErrorSentence(listenError('EACCES', 80))).toBe(
      'cannot listen 127.0.0.1:80: permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE; choose another RACEWATCH_METRICS_PORT)',
    );
    expect(environmentErrorSentence(listenError('EADDRINUSE', 9100))).toContain('choose another RACEWATCH_METRICS_PORT');
    const fileError = Object.assign(new Error('EACCES'), { code: 'EACCES', syscall: 'open', path: '/var/lib/racewatch/files.json' });
    expect(environmentErrorSentence(fileError)).toBe(
      'cannot open /var/lib/racewatch/files.json: permission denied (racewatch needs read and write access there)',
    );
  });
});
