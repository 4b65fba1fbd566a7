// How the GitLab sink behaves when GitLab, the network, the state store or the log content misbehave.
// Everything runs the real client (gitbeaker + racewatch's requester and retry policy) against the local
// stand-in over HTTP, or the built CLI as a child process; nothing of racewatch is mocked. Waits asked for
// by Retry-After go to a fake sleep; backoff is 1 ms.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../src/log/logger.js';
import type { RaceOccurrence } from '../src/pipeline/occurrence.js';
import { createGitlabClient, type GitlabConnection } from '../src/sink/gitlab/client.js';
import { GitlabConfigurationError, GitlabUnavailableError } from '../src/sink/gitlab/errors.js';
import { createGitlabSink, type GitlabSink, type GitlabSinkOptions } from '../src/sink/gitlab/gitlab-sink.js';
import { fingerprintInMarker, occurrenceIdsInMarkers } from '../src/sink/gitlab/marker.js';
import { IssueTracker } from '../src/sink/gitlab/tracker.js';
import { StateCorruptError } from '../src/state/json-file.js';
import { StateLockedError, stateFileFor, type SinkState } from '../src/state/sink-state.js';
import { CLI } from './support/cli.js';
import { watchForStackTraces } from './support/stack-trace-guard.js';
import { startGitlabStandin, type GitlabStandin, type StoredIssue } from './support/gitlab-standin.js';
import { occurrencesOf, SAMPLES_DIR } from './support/samples.js';

const PROJECT_ID = 42;

/** Whether some racewatch holds the state file's lock now (a released lock record may stay behind). */
function lockHeld(): boolean {
  const prefix = `${path.basename(stateFile)}.lock.`;
  return readdirSync(path.dirname(stateFile))
    .filter((name) => name.startsWith(prefix) && /^\d+$/.test(name.slice(prefix.length)))
    .some((name) => {
      try {
        return (JSON.parse(readFileSync(path.join(path.dirname(stateFile), name), 'utf8')) as { released?: boolean }).released === false;
      } catch {
        return false;
      }
    });
}
const PROJECT = 'soak/svc';
const FORBIDDEN_PROJECT = 'locked/repo';
const WRONG_TOKEN = 'glpat-wrong-token-4f1d9c2e7a';
const NOW = new Date('2026-11-23T12:00:00.000Z');
const ROOT = path.resolve(SAMPLES_DIR, '..');

let standin: GitlabStandin;
let stateDir: string;
let stateFile: string;
/** Every Retry-After wait the client asked for, in milliseconds. */
let waits: number[];
/** Every token handed to racewatch in this test. */
let secrets: Set<string>;
/** Everything racewatch said in this test: logs, error messages, CLI stdout and stderr. */
let said: Array<{ where: string; text: string }>;
let logText: string;
let log: ReturnType<typeof createLogger>;

beforeEach(async () => {
  standin = await startGitlabStandin({ forbiddenProjects: [FORBIDDEN_PROJECT] });
  stateDir = mkdtempSync(path.join(tmpdir(), 'racewatch-failures-'));
  stateFile = stateFileFor(stateDir, PROJECT);
  waits = [];
  secrets = new Set([standin.token]);
  said = [];
  logText = '';
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => (logText += chunk.toString('utf8')));
  log = createLogger('debug', stream);
});

afterEach(async () => {
  await standin.close();
  try {
    // Whatever happened in the test, no token may have reached a log, a message, an output or the state store.
    for (const { where, text } of [{ where: 'the log', text: logText }, ...said, ...stateDirContents()]) {
      for (const secret of secrets) expect(text, `token found in ${where}`).not.toContain(secret);
    }
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
});

function stateDirContents(): Array<{ where: string; text: string }> {
  if (!existsSync(stateDir)) return [];
  return readdirSync(stateDir, { recursive: true, encoding: 'utf8' })
    .map((name) => path.join(stateDir, name))
    .filter((file) => statSync(file).isFile())
    .map((file) => ({ where: file, text: readFileSync(file, 'utf8') }));
}

// ---------------------------------------------------------------------------------------------------------
// Driving the sink in-process

interface SinkOptions {
  connection?: Partial<GitlabConnection>;
  sink?: Partial<GitlabSinkOptions>;
}

async function openSink({ connection = {}, sink = {} }: SinkOptions = {}): Promise<GitlabSink> {
  const settings: GitlabConnection = {
    url: standin.url,
    token: standin.token,
    project: PROJECT,
    timeoutMs: 10_000,
    retries: 3,
    backoffMs: 1,
    maxRetryAfterMs: 60_000,
    settleMs: 0,
    ...connection,
  };
  secrets.add(settings.token);
  const client = createGitlabClient(settings, log, async (ms) => {
    waits.push(ms);
  });
  return createGitlabSink({
    tracker: new IssueTracker(client, ['race']),
    log,
    stateFile,
    project: settings.project,
    ignoreLabel: 'race::ignore',
    reopenPolicy: 'reopen',
    commentWindowMs: 0,
    maxNewIssues: 25,
    host: 'soak-3',
    now: () => NOW,
    ...sink,
  });
}

/** One scan's worth: open a sink, give it the occurrences, finish. Resolves with the sink (finish may reject). */
async function deliver(occurrences: RaceOccurrence[], options: SinkOptions = {}): Promise<GitlabSink> {
  const sink = await openSink(options);
  for (const occurrence of occurrences) await sink.accept(occurrence);
  await sink.finish();
  return sink;
}

async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => expect.fail('expected a rejection'),
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(Error);
  said.push({ where: 'an error message', text: `${(error as Error).message}\n${(error as Error).stack ?? ''}` });
  return error as Error;
}

function readState(): SinkState {
  return JSON.parse(readFileSync(stateFile, 'utf8')) as SinkState;
}

const issues = (): StoredIssue[] => standin.issues(PROJECT_ID);
const notes = (iid: number) => standin.notes(PROJECT_ID, iid);
const requestsTo = (method: string, pathEnd: RegExp) => standin.requests.filter((r) => r.method === method && pathEnd.test(r.path));
const distinct = <T>(values: T[]): T[] => [...new Set(values)];
const sorted = (values: string[]): string[] => [...values].sort();

/** Every occurrence id GitLab holds, over all descriptions and comments (repeats kept, to catch doubles). */
function occurrenceIdsInGitlab(): string[] {
  return issues().flatMap((issue) => [...occurrenceIdsInMarkers(issue.description), ...notes(issue.iid).flatMap((note) => occurrenceIdsInMarkers(note.body))]);
}

/** The sighting counts GitLab shows: "Sightings so far" of each description plus the count of each comment. */
function sightingCountsInGitlab(): number {
  let total = 0;
  for (const issue of issues()) {
    total += Number(/\*\*Sightings so far:\*\* (\d+)/.exec(issue.description ?? '')?.[1] ?? 0);
    for (const note of notes(issue.iid)) total += Number(/: \*\*(\d+)\*\* time\(s\)/.exec(note.body)?.[1] ?? 0);
  }
  return total;
}

/** The lines of the fenced code block(s) of a Markdown text, as racewatch writes them. */
function codeBlockLines(markdown: string): string[] {
  const lines = markdown.split('\n');
  const inside: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(`{3,})text$/.exec(lines[i]!);
    if (!open) continue;
    const end = lines.indexOf(open[1]!, i + 1);
    expect(end, 'the code block is closed by its own fence').toBeGreaterThan(i);
    inside.push(...lines.slice(i + 1, end));
    i = end;
  }
  return inside;
}

function outsideCodeBlocks(markdown: string): string {
  const blockLines = new Set(codeBlockLines(markdown));
  return markdown
    .split('\n')
    .filter((line) => !blockLines.has(line))
    .join('\n');
}

async function createProjectLabel(name: string): Promise<void> {
  const response = await fetch(`${standin.url}/api/v4/projects/${PROJECT_ID}/labels`, {
    method: 'POST',
    headers: { 'private-token': standin.token, 'content-type': 'application/json' },
    body: JSON.stringify({ name, color: '#ff0000' }),
  });
  expect(response.status).toBe(201);
}

// ---------------------------------------------------------------------------------------------------------
// Driving the built CLI, asynchronously (the stand-in lives in this process)

interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

interface CliRun {
  child: ChildProcess;
  done: Promise<CliResult>;
}

function startCli(args: string[], env: Record<string, string>): CliRun {
  const base: Record<string, string | undefined> = { ...process.env };
  for (const key of Object.keys(base)) {
    if (/^(RACEWATCH_|GITLAB_)/.test(key) || ['LOG_LEVEL', 'CREDENTIALS_DIRECTORY', 'STATE_DIRECTORY'].includes(key)) delete base[key];
  }
  const fullEnv: Record<string, string | undefined> = {
    ...base,
    RACEWATCH_STATE_DIR: stateDir,
    RACEWATCH_HOST: 'soak-3',
    RACEWATCH_GITLAB_BACKOFF: '1ms',
    RACEWATCH_GITLAB_RETRIES: '2',
    RACEWATCH_GITLAB_TIMEOUT: '10s',
    LOG_LEVEL: 'debug',
    ...env,
  };
  if (fullEnv.GITLAB_TOKEN) secrets.add(fullEnv.GITLAB_TOKEN);
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: fullEnv, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  watchForStackTraces(`racewatch ${args.join(' ')}`, () => `${stdout}\n${stderr}`);
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status) => {
      said.push({ where: `stdout of racewatch ${args.join(' ')}`, text: stdout }, { where: `stderr of racewatch ${args.join(' ')}`, text: stderr });
      resolve({ status, stdout, stderr });
    });
  });
  return { child, done };
}

async function racewatch(args: string[], env: Record<string, string>): Promise<CliResult> {
  const run = startCli(args, env);
  run.child.stdin!.end();
  return run.done;
}

function gitlabEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return { GITLAB_URL: standin.url, GITLAB_TOKEN: standin.token, GITLAB_PROJECT: PROJECT, ...overrides };
}

const sample = (file: string) => path.join(SAMPLES_DIR, file);

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  return port;
}

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 25));
  expect(condition(), what).toBe(true);
}

// =========================================================================================================

describe('GitLab down, then back', () => {
  it('an outage keeps every new sighting pending on disk, and a later run with no new input files them all exactly once', async () => {
    const occurrences = await occurrencesOf('logs/soakd-restarts.log');
    const fingerprints = distinct(occurrences.map((o) => o.fingerprint));
    expect(fingerprints.length).toBeGreaterThan(1);
    standin.injectFault({ status: 503, times: Infinity });

    const down = await deliver(occurrences);
    expect(down.summary.failure).toBeInstanceOf(GitlabUnavailableError);
    expect(down.summary.pending).toBe(occurrences.length);
    expect(down.summary.created).toBe(0);
    expect(sorted(readState().pending.map((s) => s.id))).toEqual(sorted(occurrences.map((o) => o.id)));
    expect(issues()).toEqual([]);
    // Retried as configured (3 retries), then given up on: 4 attempts of the first call, no write ever tried.
    expect(standin.requests).toHaveLength(4);
    expect(standin.requests.every((r) => r.method === 'GET')).toBe(true);

    standin.clearFaults();
    const up = await deliver([]);
    expect(up.summary).toMatchObject({ received: 0, created: fingerprints.length, pending: 0, failure: null });
    expect(sorted(issues().map((i) => fingerprintInMarker(i.description)!))).toEqual(sorted(fingerprints));
    expect(sorted(occurrenceIdsInGitlab())).toEqual(sorted(occurrences.map((o) => o.id)));
    expect(sightingCountsInGitlab()).toBe(occurrences.length);
    const state = readState();
    expect(state.pending).toEqual([]);
    expect(sorted(Object.keys(state.delivered))).toEqual(sorted(occurrences.map((o) => o.id)));
  });

  it('an outage in the middle of a run loses nothing and repeats nothing: what was filed stays filed, the rest follows next run', async () => {
    const occurrences = await occurrencesOf('logs/soakd-restarts.log');
    const [first, ...rest] = occurrences;
    await deliver([first!]);
    expect(issues()).toHaveLength(1);

    // Now creating issues fails for good; commenting on the existing issue still works.
    standin.injectFault({ method: 'POST', path: /\/issues$/, status: 503, times: Infinity });
    const partial = await deliver(rest);
    expect(partial.summary.failure).toBeInstanceOf(GitlabUnavailableError);
    expect(partial.summary.pending).toBeGreaterThan(0);
    expect(readState().pending).toHaveLength(partial.summary.pending);
    expect(issues()).toHaveLength(1);

    standin.clearFaults();
    const after = await deliver([]);
    expect(after.summary).toMatchObject({ pending: 0, failure: null });
    expect(issues()).toHaveLength(distinct(occurrences.map((o) => o.fingerprint)).length);
    expect(sorted(occurrenceIdsInGitlab())).toEqual(sorted(occurrences.map((o) => o.id)));
    expect(sightingCountsInGitlab()).toBe(occurrences.length);
  });
});

describe('rate limits and server errors', () => {
  it('a 429 with Retry-After: 7 waits 7000 ms as told, then files the issue once', async () => {
    standin.injectFault({ method: 'POST', path: /\/issues$/, status: 429, retryAfterSeconds: 7 });
    const sink = await deliver(await occurrencesOf('logs/struct-field.log'));
    expect(waits).toEqual([7000]);
    expect(issues()).toHaveLength(1);
    expect(requestsTo('POST', /\/issues$/)).toHaveLength(2);
    expect(sink.summary).toMatchObject({ created: 1, pending: 0, failure: null });
  });

  it('a Retry-After longer than maxRetryAfterMs gives up without waiting and keeps the sighting pending', async () => {
    standin.injectFault({ method: 'POST', path: /\/issues$/, status: 429, retryAfterSeconds: 600, times: Infinity });
    const occurrences = await occurrencesOf('logs/struct-field.log');
    const sink = await deliver(occurrences, { connection: { maxRetryAfterMs: 60_000 } });
    expect(sink.summary.failure).toBeInstanceOf(GitlabUnavailableError);
    expect(sink.summary.failure!.message).toContain('Retry-After');
    expect(sink.summary.pending).toBe(occurrences.length);
    expect(waits).toEqual([]);
    expect(requestsTo('POST', /\/issues$/)).toHaveLength(1);
    expect(issues()).toEqual([]);
    expect(readState().pending.map((s) => s.id)).toEqual(occurrences.map((o) => o.id));
  });

  it('two 500s on creating the issue are retried and end in exactly one issue', async () => {
    standin.injectFault({ method: 'POST', path: /\/issues$/, status: 500, times: 2 });
    const sink = await deliver(await occurrencesOf('logs/struct-field.log'));
    expect(requestsTo('POST', /\/issues$/)).toHaveLength(3);
    expect(issues()).toHaveLength(1);
    expect(sink.summary).toMatchObject({ created: 1, pending: 0, failure: null });
  });
});

describe('lost answers and crashes', () => {
  it('when GitLab creates the issue but the answer is lost, the retry finds it and files no duplicate', async () => {
    const occurrences = await occurrencesOf('logs/soakd-restarts.log');
    const fingerprints = distinct(occurrences.map((o) => o.fingerprint));
    standin.injectFault({ method: 'POST', path: /\/issues$/, status: 201, dropAfterServing: true });
    const sink = await deliver(occurrences);
    expect(sink.summary).toMatchObject({ created: fingerprints.length, duplicatesClosed: 0, pending: 0, failure: null });
    for (const fingerprint of fingerprints) {
      expect(
        issues().filter((i) => fingerprintInMarker(i.description) === fingerprint),
        fingerprint,
      ).toHaveLength(1);
    }
    expect(issues()).toHaveLength(fingerprints.length);
    expect(issues().every((i) => i.state === 'opened')).toBe(true);
    // The lost create was not sent again: the retry looked first and found it.
    expect(requestsTo('POST', /\/issues$/)).toHaveLength(fingerprints.length);
    expect(sorted(Object.values(readState().issues).map((link) => String(link.iid)))).toEqual(sorted(issues().map((i) => String(i.iid))));
  });

  it('when GitLab stores a comment but the answer is lost, the retry does not post the same sightings twice', async () => {
    const occurrences = await occurrencesOf('logs/soakd-restarts.log');
    const fingerprint = occurrences[0]!.fingerprint;
    const same = occurrences.filter((o) => o.fingerprint === fingerprint);
    expect(same.length).toBeGreaterThan(1);
    await deliver([same[0]!]);
    const [issue] = issues();

    standin.injectFault({ method: 'POST', path: /\/notes$/, status: 201, dropAfterServing: true });
    const sink = await deliver(same.slice(1));
    expect(sink.summary).toMatchObject({ pending: 0, failure: null });
    expect(notes(issue!.iid)).toHaveLength(1);
    expect(sorted(occurrenceIdsInGitlab())).toEqual(sorted(same.map((o) => o.id)));
  });

  it('a comment GitLab stored while the run gave up on its lost answer is not posted again by the next run', async () => {
    const occurrences = await occurrencesOf('logs/soakd-restarts.log');
    const same = occurrences.filter((o) => o.fingerprint === occurrences[0]!.fingerprint);
    await deliver([same[0]!]);
    const [issue] = issues();

    // No retries, and the lookup for the lost answer fails too: the run gives up with the write unresolved.
    standin.injectFault({ method: 'POST', path: /\/notes$/, status: 201, dropAfterServing: true });
    standin.injectFault({ method: 'GET', path: /\/notes$/, status: 503, times: 1 });
    const interrupted = await deliver(same.slice(1), { connection: { retries: 0 } });
    expect(interrupted.summary.failure).toBeInstanceOf(GitlabUnavailableError);
    expect(interrupted.summary.pending).toBe(same.length - 1);
    expect(notes(issue!.iid)).toHaveLength(1);

    const next = await deliver([]);
    expect(next.summary).toMatchObject({ pending: 0, failure: null, created: 0 });
    expect(notes(issue!.iid)).toHaveLength(1);
    expect(sorted(occurrenceIdsInGitlab())).toEqual(sorted(same.map((o) => o.id)));
    expect(readState().pending).toEqual([]);
  });

  it('a crash between filing and saving state (state file lost) files no second issue and no comment on the next run', async () => {
    const occurrences = await occurrencesOf('logs/soakd-restarts.log');
    await deliver(occurrences);
    const filed = issues();
    expect(filed.length).toBeGreaterThan(0);
    const writesBefore = standin.requests.filter((r) => r.method !== 'GET').length;

    rmSync(stateFile);
    const again = await deliver(occurrences);
    expect(again.summary).toMatchObject({ created: 0, commented: 0, reopened: 0, pending: 0, failure: null });
    expect(issues()).toEqual(filed);
    for (const issue of issues()) expect(notes(issue.iid), `notes of #${issue.iid}`).toEqual([]);
    expect(standin.requests.filter((r) => r.method !== 'GET')).toHaveLength(writesBefore);
    // The rebuilt state links each fingerprint to its issue, so a third run is a plain repeat.
    const state = readState();
    for (const issue of filed) expect(state.issues[fingerprintInMarker(issue.description)!]?.iid).toBe(issue.iid);
    const third = await deliver(occurrences);
    expect(third.summary).toMatchObject({ alreadyDelivered: occurrences.length, created: 0, commented: 0 });
  });
});

describe('settings GitLab rejects', () => {
  it('a wrong token (401) fails at once with GitlabConfigurationError naming GITLAB_TOKEN, without the token, never retried', async () => {
    const occurrences = await occurrencesOf('logs/struct-field.log');
    const sink = await openSink({ connection: { token: WRONG_TOKEN } });
    for (const occurrence of occurrences) await sink.accept(occurrence);
    const error = await rejectionOf(sink.finish());
    expect(error).toBeInstanceOf(GitlabConfigurationError);
    expect(error.message).toContain('GITLAB_TOKEN');
    expect(error.message).toContain('401');
    expect(error.message).not.toContain(WRONG_TOKEN);
    expect(standin.requests).toHaveLength(1);
    expect(sink.summary.failure).toBe(error);
    expect(issues()).toEqual([]);
    // Nothing is lost: the sightings wait in the state store for a run with the right token.
    expect(readState().pending.map((s) => s.id)).toEqual(occurrences.map((o) => o.id));
  });

  it('a project the token may not use (403) fails at once with GitlabConfigurationError, never retried', async () => {
    const sink = await openSink({ connection: { project: FORBIDDEN_PROJECT } });
    for (const occurrence of await occurrencesOf('logs/struct-field.log')) await sink.accept(occurrence);
    const error = await rejectionOf(sink.finish());
    expect(error).toBeInstanceOf(GitlabConfigurationError);
    expect(error.message).toContain('403');
    expect(error.message).toContain(FORBIDDEN_PROJECT);
    expect(standin.requests).toHaveLength(1);
    expect(standin.issues()).toEqual([]);
  });

  it('an unknown project (404) fails at once with GitlabConfigurationError naming GITLAB_PROJECT, never retried', async () => {
    const sink = await openSink({ connection: { project: 'soak/nope' } });
    for (const occurrence of await occurrencesOf('logs/struct-field.log')) await sink.accept(occurrence);
    const error = await rejectionOf(sink.finish());
    expect(error).toBeInstanceOf(GitlabConfigurationError);
    expect(error.message).toContain('GITLAB_PROJECT');
    expect(error.message).toContain('soak/nope');
    expect(standin.requests).toHaveLength(1);
    expect(standin.issues()).toEqual([]);
  });

  it('the CLI exits 2 with a configuration message on a wrong token, and prints the token nowhere', async () => {
    const result = await racewatch(['scan', sample('logs/struct-field.log')], gitlabEnv({ GITLAB_TOKEN: WRONG_TOKEN }));
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('racewatch: configuration error:');
    expect(result.stderr).toContain('GITLAB_TOKEN');
    expect(result.stdout + result.stderr).not.toContain(WRONG_TOKEN);
    expect(result.stdout + result.stderr).not.toContain(standin.token);
    expect(standin.requests).toHaveLength(1);
    expect(issues()).toEqual([]);
  });

  it('the CLI exits 2 naming GITLAB_PROJECT for an unknown project, and 2 for a forbidden one', async () => {
    const unknown = await racewatch(['scan', sample('logs/struct-field.log')], gitlabEnv({ GITLAB_PROJECT: 'soak/nope' }));
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('racewatch: configuration error:');
    expect(unknown.stderr).toContain('GITLAB_PROJECT');
    const forbidden = await racewatch(['scan', sample('logs/struct-field.log')], gitlabEnv({ GITLAB_PROJECT: FORBIDDEN_PROJECT }));
    expect(forbidden.status).toBe(2);
    expect(forbidden.stderr).toContain('racewatch: configuration error:');
    expect(forbidden.stderr).toContain('403');
    expect(standin.requests).toHaveLength(2);
    expect(issues()).toEqual([]);
  });
});

describe('the token stays secret', () => {
  it('appears in no debug log, error message, --json output or state file through outage, recovery, 401 and CLI runs', async () => {
    const occurrences = await occurrencesOf('logs/soakd-restarts.log');
    // In-process: outage, then recovery, then a wrong token.
    standin.injectFault({ status: 503, times: 5 });
    const down = await deliver(occurrences.slice(0, 4), { connection: { retries: 1 } });
    said.push({ where: 'the outage failure', text: String(down.summary.failure?.stack) });
    await deliver(occurrences.slice(4));
    const wrong = await openSink({ connection: { token: WRONG_TOKEN } });
    await wrong.accept((await occurrencesOf('logs/struct-field.log'))[0]!);
    expect(await rejectionOf(wrong.finish())).toBeInstanceOf(GitlabConfigurationError);
    expect(issues().length).toBeGreaterThan(0);

    // CLI with --json and debug logs: an outage run (exit 3), then a run that files.
    const otherDir = mkdtempSync(path.join(stateDir, 'cli-'));
    standin.injectFault({ status: 502, times: 3 });
    const failing = await racewatch(['scan', '--json', sample('logs/soakd-build-a1.log')], gitlabEnv({ RACEWATCH_STATE_DIR: otherDir }));
    expect(failing.status).toBe(3);
    const filing = await racewatch(['scan', '--json', sample('logs/two-callers.log')], gitlabEnv({ RACEWATCH_STATE_DIR: otherDir }));
    expect(filing.status).toBe(0);
    expect(
      filing.stdout
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as { id: string }).id),
    ).toHaveLength(2);
    expect(filing.stderr).toContain('"level":20'); // debug lines were written, so they were checked too

    const everything = [logText, ...said.map((s) => s.text), ...stateDirContents().map((s) => s.text)].join('\n');
    expect(everything.length).toBeGreaterThan(0);
    expect(everything).not.toContain(standin.token);
    expect(everything).not.toContain(WRONG_TOKEN);
    // The token did go to GitLab, in the header and nowhere else.
    expect(standin.requests.some((r) => r.headers['private-token'] === standin.token)).toBe(true);
  });
});

describe('log text stays inert in GitLab', () => {
  const HOSTILE = ['```', '/close', '/label ~pwned', '@all', '<script>alert(1)</script>', '````', '/assign @alice'];

  function withHostileText(occurrence: RaceOccurrence): RaceOccurrence {
    const lines = occurrence.text.split('\n');
    return { ...occurrence, text: [...lines.slice(0, 2), ...HOSTILE, ...lines.slice(2)].join('\n') };
  }

  function expectInert(markdown: string): void {
    const block = codeBlockLines(markdown);
    for (const line of HOSTILE) {
      expect(
        block.some((kept) => kept === line || kept === ` ${line}`),
        `${JSON.stringify(line)} inside the code block`,
      ).toBe(true);
    }
    const outside = outsideCodeBlocks(markdown);
    expect(outside).not.toContain('<script>');
    expect(outside).not.toContain('@all');
    expect(outside).not.toMatch(/^\/(close|label|assign)/m);
  }

  it('quick actions, mentions, HTML and fences in a report do nothing when the issue is filed', async () => {
    await createProjectLabel('pwned');
    const [occurrence] = await occurrencesOf('logs/struct-field.log');
    await deliver([withHostileText(occurrence!)]);
    const [issue] = issues();
    expect(issue).toMatchObject({ state: 'opened', labels: ['race'], assignees: [] });
    expect(standin.quickActions).toEqual([]);
    expectInert(issue!.description!);
  });

  it('quick actions, mentions, HTML and fences in a later report do nothing when it is commented', async () => {
    await createProjectLabel('pwned');
    const occurrences = await occurrencesOf('logs/soakd-restarts.log');
    const same = occurrences.filter((o) => o.fingerprint === occurrences[0]!.fingerprint);
    await deliver([same[0]!]);
    await deliver([withHostileText(same[1]!)]);
    const [issue] = issues();
    expect(issue).toMatchObject({ state: 'opened', labels: ['race'], assignees: [] });
    expect(standin.quickActions).toEqual([]);
    const [note] = notes(issue!.iid);
    expect(note).toBeDefined();
    expectInert(note!.body);
  });

  it('hostile lines a log puts inside a report reach the issue through the parser and stay inert', async () => {
    await createProjectLabel('pwned');
    const original = readFileSync(sample('logs/struct-field.log'), 'utf8').split('\n');
    const endOfFirstStack = original.findIndex((line) => line.includes('main.go:29'));
    expect(endOfFirstStack).toBeGreaterThan(0);
    // Frame-shaped lines the parser keeps (a function line and its location) at the bottom of the first stack.
    const hostile = ['  <script>alert(1)</script>()', '      /close:1', '  @all()', '      /label ~pwned:2', '  ```()', '      ````:3'];
    const derived = [...original.slice(0, endOfFirstStack + 1), ...hostile, ...original.slice(endOfFirstStack + 1)];
    const file = path.join(stateDir, 'hostile.log');
    writeFileSync(file, derived.join('\n'));

    const result = await racewatch(['scan', file], gitlabEnv());
    expect(result.status).toBe(0);
    const [issue] = issues();
    expect(issues()).toHaveLength(1);
    expect(issue).toMatchObject({ state: 'opened', labels: ['race'] });
    expect(standin.quickActions).toEqual([]);
    const block = codeBlockLines(issue!.description!);
    for (const line of hostile) expect(block, JSON.stringify(line)).toContain(line);
    expect(outsideCodeBlocks(issue!.description!)).not.toContain('<script>');
  });
});

describe('GitLab unreachable from the CLI', () => {
  it('exits 3 saying the sightings are pending, and a later run against a live GitLab files them and exits 0', async () => {
    const port = await closedPort();
    const input = sample('logs/soakd-restarts.log');
    const offline = await racewatch(['scan', input], gitlabEnv({ GITLAB_URL: `http://127.0.0.1:${port}` }));
    expect(offline.status).toBe(3);
    expect(offline.stdout).toMatch(/9 sighting\(s\) pending \(GitLab did not take the rest\); they are kept in the state store/);
    expect(issues()).toEqual([]);
    expect(readState().pending).toHaveLength(9);

    // A log without races: whatever gets filed comes from the state store.
    const online = await racewatch(['scan', sample('logs/clean-app.log')], gitlabEnv());
    expect(online.status).toBe(0);
    expect(online.stdout).toContain('filed 2 new issue(s)');
    expect(online.stdout).not.toContain('pending');
    expect(issues()).toHaveLength(2);
    expect(readState().pending).toEqual([]);
    expect(sightingCountsInGitlab()).toBe(9);
  });
});

describe('state store trouble', () => {
  for (const [kind, content] of [
    ['an empty', ''],
    ['a garbage', '{"schema":1,"project":"soak/svc","issues":{'],
    ['a wrong-shaped', '{"schema":1,"project":"soak/svc","issues":[],"pending":{},"delivered":7}\n'],
  ] as const) {
    it(`${kind} state file stops the sink with StateCorruptError naming the file, and is left as it was`, async () => {
      writeFileSync(stateFile, content);
      const error = await rejectionOf(openSink());
      expect(error).toBeInstanceOf(StateCorruptError);
      expect(error.message).toContain(stateFile);
      expect(readFileSync(stateFile, 'utf8')).toBe(content);
      expect(lockHeld()).toBe(false);
      expect(standin.requests).toEqual([]);
    });
  }

  it('a corrupt state file makes the CLI exit 2 naming the file, and nothing is filed', async () => {
    writeFileSync(stateFile, 'not json at all');
    const result = await racewatch(['scan', sample('logs/soakd-restarts.log')], gitlabEnv());
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(stateFile);
    expect(result.stderr).toContain('unreadable');
    expect(issues()).toEqual([]);
    expect(standin.requests).toEqual([]);
    expect(readFileSync(stateFile, 'utf8')).toBe('not json at all');
  });

  it('a second sink on the same state file while the first is open is refused with StateLockedError', async () => {
    const first = await openSink();
    try {
      const error = await rejectionOf(openSink());
      expect(error).toBeInstanceOf(StateLockedError);
    } finally {
      await first.finish();
    }
  });

  it('a sink is refused with StateLockedError naming the pid while a racewatch process holds the state, and opens once it is gone', async () => {
    const holder = startCli(['scan', '-'], gitlabEnv());
    try {
      await waitFor(lockHeld, 'the racewatch process took the lock');
      const error = await rejectionOf(openSink());
      expect(error).toBeInstanceOf(StateLockedError);
      expect(error.message).toContain(`pid ${holder.child.pid}`);
    } finally {
      holder.child.stdin!.end();
    }
    expect((await holder.done).status).toBe(0);
    const sink = await openSink();
    await sink.finish();
  });

  it('racewatch exits 2 naming the other pid while a sink in another process holds the state', async () => {
    const sink = await openSink();
    try {
      const result = await racewatch(['scan', sample('logs/struct-field.log')], gitlabEnv());
      expect(result.status).toBe(2);
      expect(result.stderr).toContain(`another racewatch (pid ${process.pid})`);
      expect(issues()).toEqual([]);
    } finally {
      await sink.finish();
    }
  });
});
