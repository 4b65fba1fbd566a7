import type { Readable, Writable } from 'node:stream';
import { warnIfPlainHttp } from '../config/gitlab.js';
import { defaultStateDir, type Settings } from '../config/settings.js';
import type { Logger } from '../log/logger.js';
import type { ExtractEvent, ExtractOptions } from '../pipeline/extract.js';
import { createDryRunSink } from '../sink/dry-run.js';
import { fanOut } from '../sink/fan-out.js';
import type { GitlabConnection } from '../sink/gitlab/client.js';
import type { GitlabSink } from '../sink/gitlab/gitlab-sink.js';
import { createNdjsonSink } from '../sink/ndjson.js';
import type { DurableSink, RaceSink } from '../sink/sink.js';
import { counts } from '../observability/metrics.js';
import { stateFileFor } from '../state/sink-state.js';

/** How the commands meet the outside world; tests pass their own streams. */
export interface CommandIo {
  stdout: Writable;
  stderr: Writable & { isTTY?: boolean };
  stdin: Readable;
  env: NodeJS.ProcessEnv;
}

export interface Sinks {
  sink: DurableSink;
  gitlab: GitlabSink | null;
}

export interface RunTotals {
  files: number;
  bytes: number;
  reports: number;
  truncated: number;
  abandoned: number;
  cutLines: number;
  failedFiles: number;
}

export const emptyTotals = (): RunTotals => ({ files: 0, bytes: 0, reports: 0, truncated: 0, abandoned: 0, cutLines: 0, failedFiles: 0 });

const CUT_LINES_LOGGED_PER_FILE = 10;

export function extractOptions(settings: Settings): ExtractOptions {
  return {
    maxLineBytes: settings.maxLineBytes,
    customPrefix: settings.linePrefix,
    goraceLogPaths: settings.goraceLogPaths,
    formats: settings.formats,
    fingerprint: {
      depth: settings.fingerprintDepth,
      skipFunctions: settings.skipFunctions,
      appModules: settings.appModules,
    },
  };
}

export function stateDirOf(settings: Settings, env: NodeJS.ProcessEnv): string {
  return settings.stateDir ?? defaultStateDir(env);
}

/** The sinks of a run: GitLab when configured, the JSON stream when asked, else the dry-run summary. */
export async function openSinks(
  json: boolean,
  connection: GitlabConnection | null,
  settings: Settings,
  io: CommandIo,
  log: Logger,
  defaultCommentWindowMs = 0,
): Promise<Sinks> {
  const gitlab = connection ? await openGitlabSink(connection, settings, io.env, log, defaultCommentWindowMs) : null;
  const output = json ? createNdjsonSink(io.stdout) : gitlab ? null : createDryRunSink(io.stdout);
  const sinks = [output, gitlab].filter((sink): sink is RaceSink => sink !== null);
  return { sink: fanOut(sinks), gitlab };
}

async function openGitlabSink(
  connection: GitlabConnection,
  settings: Settings,
  env: NodeJS.ProcessEnv,
  log: Logger,
  defaultCommentWindowMs: number,
): Promise<GitlabSink> {
  // Loaded only when GitLab is configured: the client library costs a dry run a noticeable start-up time.
  const [{ createGitlabClient }, { createGitlabSink }, { IssueTracker }] = await Promise.all([
    import('../sink/gitlab/client.js'),
    import('../sink/gitlab/gitlab-sink.js'),
    import('../sink/gitlab/tracker.js'),
  ]);
  warnIfPlainHttp(connection, log);
  const client = createGitlabClient(connection, log);
  return createGitlabSink({
    tracker: new IssueTracker(client, settings.labels),
    log,
    stateFile: stateFileFor(stateDirOf(settings, env), connection.project),
    project: connection.project,
    ignoreLabel: settings.ignoreLabel,
    reopenPolicy: settings.reopenPolicy,
    commentWindowMs: settings.commentWindow ?? defaultCommentWindowMs,
    maxNewIssues: settings.maxNewIssues,
    host: settings.host,
  });
}

/** Sends races to the sink and logs, with file and line, everything the parser or decoder gave up on. */
export function eventHandler(sink: RaceSink, log: Logger, totals: RunTotals): (event: ExtractEvent) => Promise<void> {
  const cutLinesPerSource = new Map<string, number>();
  return async (event) => {
    switch (event.type) {
      case 'race':
        totals.reports += 1;
        counts.reportsSeen += 1;
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
      case 'cut-line': {
        totals.cutLines += 1;
        const seen = (cutLinesPerSource.get(event.source) ?? 0) + 1;
        cutLinesPerSource.set(event.source, seen);
        if (seen <= CUT_LINES_LOGGED_PER_FILE) {
          log.warn(
            { source: event.source, line: event.line, offset: event.offset },
            `${event.source}:${event.line}: line longer than ${event.maxLineBytes} bytes; only its first ${event.maxLineBytes} bytes were read` +
              (seen === CUT_LINES_LOGGED_PER_FILE ? ' (further cut lines in this file are only counted)' : ''),
          );
        }
        return;
      }
      case 'progress':
        return;
    }
  };
}
