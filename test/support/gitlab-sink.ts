import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { createLogger } from '../../src/log/logger.js';
import type { RaceOccurrence } from '../../src/pipeline/occurrence.js';
import { createGitlabClient, type GitlabConnection } from '../../src/sink/gitlab/client.js';
import { createGitlabSink, type GitlabSink, type GitlabSinkOptions } from '../../src/sink/gitlab/gitlab-sink.js';
import { IssueTracker } from '../../src/sink/gitlab/tracker.js';
import { stateFileFor } from '../../src/state/sink-state.js';
import type { GitlabStandin } from './gitlab-standin.js';

export interface SinkHarness {
  stateFile: string;
  logs: () => string;
  waits: number[];
  open(overrides?: Partial<GitlabSinkOptions>, connection?: Partial<GitlabConnection>): Promise<GitlabSink>;
  deliver(occurrences: RaceOccurrence[], overrides?: Partial<GitlabSinkOptions>): Promise<GitlabSink>;
}

/** A GitLab sink wired as `racewatch scan` wires it, against a stand-in, with a fake clock for waits. */
export function sinkHarness(standin: GitlabStandin, project = 'soak/svc'): SinkHarness {
  const stateFile = stateFileFor(mkdtempSync(path.join(tmpdir(), 'racewatch-state-')), project);
  const logStream = new PassThrough();
  let logText = '';
  logStream.on('data', (chunk: Buffer) => (logText += chunk.toString()));
  const log = createLogger('debug', logStream);
  const waits: number[] = [];
  const sleep = async (ms: number) => {
    waits.push(ms);
  };

  const open = async (overrides: Partial<GitlabSinkOptions> = {}, connection: Partial<GitlabConnection> = {}) => {
    const client = createGitlabClient(
      { url: standin.url, token: standin.token, project, timeoutMs: 5000, retries: 3, backoffMs: 1, maxRetryAfterMs: 60_000, settleMs: 0, ...connection },
      log,
      sleep,
    );
    return createGitlabSink({
      tracker: new IssueTracker(client, ['race']),
      log,
      stateFile,
      project,
      ignoreLabel: 'race::ignore',
      reopenPolicy: 'reopen',
      commentWindowMs: 0,
      maxNewIssues: 25,
      host: 'soak-3',
      ...overrides,
    });
  };

  return {
    stateFile,
    logs: () => logText,
    waits,
    open,
    async deliver(occurrences, overrides) {
      const sink = await open(overrides);
      for (const occurrence of occurrences) await sink.accept(occurrence);
      await sink.finish();
      return sink;
    },
  };
}
