import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { occurrenceIdsInMarkers } from '../../src/sink/gitlab/marker.js';
import { CLI } from './cli.js';
import type { GitlabStandin } from './gitlab-standin.js';
import { SAMPLES_DIR } from './samples.js';
import { watchForStackTraces } from './stack-trace-guard.js';

/** The three process lifetimes of a real soak log, 3 reports each, to append as a live service would. */
const soak = readFileSync(path.join(SAMPLES_DIR, 'logs/soakd-restarts.log'), 'utf8').split('\n');
export const LIFETIMES = [soak.slice(0, 78), soak.slice(78, 156), soak.slice(156, 234)].map((lines) => `${lines.join('\n')}\n`);
export const REPORTS_PER_LIFETIME = 3;

export interface DaemonProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** `launcher`: a command that runs the rest of its arguments (node, the CLI, `daemon`) in its place, e.g. `unshare`. */
export function startDaemon(env: Record<string, string>, launcher: string[] = []): DaemonProcess {
  const base = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('RACEWATCH_') && !key.startsWith('GITLAB_')));
  const [command, ...args] = [...launcher, process.execPath, CLI, 'daemon'];
  const child = spawn(command!, args, { env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  watchForStackTraces('racewatch daemon', () => text);
  return { child, output: () => text, exited };
}

/** Polls until the condition holds; the timeout only bounds a failing test, it never decides a passing one. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Every occurrence id GitLab holds, in issue descriptions and comments, with repeats. */
export function recordedOccurrences(standin: GitlabStandin, projectId = 42): string[] {
  return standin
    .issues(projectId)
    .flatMap((issue) => [
      ...occurrenceIdsInMarkers(issue.description),
      ...standin.notes(projectId, issue.iid).flatMap((note) => occurrenceIdsInMarkers(note.body)),
    ]);
}

/** Ends a daemon a test left running: the test failed before stopping it, and it must not outlive the test. */
export async function killIfRunning(daemon: DaemonProcess | null): Promise<void> {
  if (!daemon || daemon.child.exitCode !== null || daemon.child.signalCode !== null) return;
  daemon.child.kill('SIGKILL');
  await daemon.exited;
}
