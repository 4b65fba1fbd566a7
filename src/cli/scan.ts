import type { Readable, Writable } from 'node:stream';
import { gitlabConnectionFrom } from '../config/gitlab.js';
import { defaultStateDir, loadSettings, type Settings, type SettingOverrides } from '../config/settings.js';
import { createLogger, type Logger } from '../log/logger.js';
import { extractRaces, type ExtractEvent, type ExtractOptions } from '../pipeline/extract.js';
import { createDryRunSink } from '../sink/dry-run.js';
import { createNdjsonSink } from '../sink/ndjson.js';
import { fanOut } from '../sink/fan-out.js';
import type { GitlabConnection } from '../sink/gitlab/client.js';
import { createGitlabClient } from '../sink/gitlab/client.js';
import { createGitlabSink, type GitlabSink } from '../sink/gitlab/gitlab-sink.js';
import { describeDelivery } from '../sink/gitlab/report.js';
import { IssueTracker } from '../sink/gitlab/tracker.js';
import { writeOut } from '../sink/output.js';
import type { RaceSink } from '../sink/sink.js';
import { stateFileFor } from '../state/sink-state.js';
import { expandPaths, InputError, type SourceFile } from '../source/expand.js';
import { openSource } from '../source/open.js';
import { EXIT } from './exit-codes.js';
import { createProgress, type Progress } from './progress.js';

export interface ScanFlags extends SettingOverrides {
  json?: boolean;
  dryRun?: boolean;
  exitCode?: boolean;
  progress?: boolean;
  config?: string;
}

interface Sinks {
  sink: RaceSink;
  gitlab: GitlabSink | null;
}

export interface ScanIo {
  stdout: Writable;
  stderr: Writable & { isTTY?: boolean };
  stdin: Readable;
  env: NodeJS.ProcessEnv;
}

// Below this, a scan ends before a progress line would help anyone.
const PROGRESS_MIN_BYTES = 64 * 1024 * 1024;
const CUT_LINES_LOGGED_PER_FILE = 10;

interface ScanTotals {
  files: number;
  bytes: number;
  reports: number;
  truncated: number;
  abandoned: number;
  cutLines: number;
  failedFiles: number;
}

export async function runScan(paths: string[], flags: ScanFlags, io: ScanIo): Promise<number> {
  const { json, dryRun, exitCode, progress: wantProgress, config, ...overrides } = flags;
  const settings = loadSettings(io.env, overrides, config ?? io.env.RACEWATCH_CONFIG);
  const log = createLogger(settings.logLevel, io.stderr);
  const connection = dryRun ? null : gitlabConnectionFrom(settings, io.env);
  const { files, errors } = await expandPaths(paths);
  for (const error of errors) log.error({ source: error.source }, error.message);

  const { sink, gitlab } = await openSinks(json === true, connection, settings, io, log);
  const totals: ScanTotals = { files: 0, bytes: 0, reports: 0, truncated: 0, abandoned: 0, cutLines: 0, failedFiles: errors.length };
  const progress = chooseProgress(files, wantProgress, io.stderr);
  let bytesBefore = 0;
  for (const file of files) {
    const done = await scanFile(file, io.stdin, extractOptions(settings), sink, log, totals, (bytes) =>
      progress?.update(bytesBefore + bytes, file.path),
    );
    if (done === null) totals.failedFiles += 1;
    else bytesBefore += done;
  }
  progress?.done();
  await sink.finish();
  log.info(totals, 'scan finished');
  if (gitlab && connection && !json) await writeOut(io.stdout, describeDelivery(gitlab.summary, connection.project, settings.maxNewIssues));
  if (totals.failedFiles > 0) return EXIT.inputError;
  if (gitlab?.summary.failure) return EXIT.deliveryIncomplete;
  return exitCode && totals.reports > 0 ? EXIT.racesFound : EXIT.ok;
}

async function openSinks(
  json: boolean,
  connection: GitlabConnection | null,
  settings: Settings,
  io: ScanIo,
  log: Logger,
): Promise<Sinks> {
  const gitlab = connection ? await openGitlabSink(connection, settings, io.env, log) : null;
  const output = json ? createNdjsonSink(io.stdout) : gitlab ? null : createDryRunSink(io.stdout);
  const sinks = [output, gitlab].filter((sink): sink is RaceSink => sink !== null);
  return { sink: fanOut(sinks), gitlab };
}

async function openGitlabSink(connection: GitlabConnection, settings: Settings, env: NodeJS.ProcessEnv, log: Logger): Promise<GitlabSink> {
  const client = createGitlabClient(connection, log);
  return createGitlabSink({
    tracker: new IssueTracker(client, settings.labels),
    log,
    stateFile: stateFileFor(settings.stateDir ?? defaultStateDir(env), connection.project),
    project: connection.project,
    ignoreLabel: settings.ignoreLabel,
    reopenPolicy: settings.reopenPolicy,
    commentWindowMs: settings.commentWindow,
    maxNewIssues: settings.maxNewIssues,
    host: settings.host,
  });
}

function extractOptions(settings: Settings): ExtractOptions {
  return {
    maxLineBytes: settings.maxLineBytes,
    customPrefix: settings.linePrefix,
    fingerprint: {
      depth: settings.fingerprintDepth,
      skipFunctions: settings.skipFunctions,
      appModules: settings.appModules,
    },
  };
}

function chooseProgress(files: SourceFile[], wanted: boolean | undefined, stderr: ScanIo['stderr']): Progress | null {
  const total = files.reduce((sum, file) => sum + (file.size ?? 0), 0);
  const show = wanted ?? (stderr.isTTY === true && total >= PROGRESS_MIN_BYTES);
  return show ? createProgress(stderr, total) : null;
}

/** Scans one file; returns the bytes it took from disk, or null when the file could not be read to its end. */
async function scanFile(
  file: SourceFile,
  stdin: Readable,
  options: ExtractOptions,
  sink: RaceSink,
  log: Logger,
  totals: ScanTotals,
  onProgress: (bytesFromDisk: number) => void,
): Promise<number | null> {
  let cutLines = 0;
  try {
    const opened = await openSource(file, stdin);
    const events = extractRaces(file.path, opened.chunks, options);
    let next = await events.next();
    while (!next.done) {
      await handleEvent(next.value, sink, log, totals, () => (cutLines += 1) <= CUT_LINES_LOGGED_PER_FILE);
      if (next.value.type === 'progress') onProgress(opened.bytesFromDisk());
      next = await events.next();
    }
    totals.files += 1;
    totals.bytes += opened.bytesFromDisk();
    if (cutLines > CUT_LINES_LOGGED_PER_FILE) {
      log.warn({ source: file.path, cutLines }, `${file.path}: ${cutLines} lines were longer than ${options.maxLineBytes} bytes and were cut`);
    }
    log.debug({ source: file.path, ...next.value }, 'file scanned');
    return opened.bytesFromDisk();
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    log.error({ source: error.source }, `${error.message}; reports found before this point were kept`);
    return null;
  }
}

async function handleEvent(
  event: ExtractEvent,
  sink: RaceSink,
  log: Logger,
  totals: ScanTotals,
  shouldLogCutLine: () => boolean,
): Promise<void> {
  switch (event.type) {
    case 'race':
      totals.reports += 1;
      if (event.occurrence.truncated) totals.truncated += 1;
      await sink.accept(event.occurrence);
      return;
    case 'abandoned':
      totals.abandoned += 1;
      log.warn(
        { source: event.source, line: event.abandoned.line, offset: event.abandoned.offset },
        `${event.source}:${event.abandoned.line}: not a report: ${event.abandoned.reason}`,
      );
      return;
    case 'cut-line':
      totals.cutLines += 1;
      if (shouldLogCutLine()) {
        log.warn(
          { source: event.source, line: event.line, offset: event.offset },
          `${event.source}:${event.line}: line longer than ${event.maxLineBytes} bytes; only its first ${event.maxLineBytes} bytes were read`,
        );
      }
      return;
    case 'progress':
      return;
  }
}
