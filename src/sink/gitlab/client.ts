import { Gitlab } from '@gitbeaker/rest';
import pRetry, { AbortError } from 'p-retry';
import type { Logger } from '../../log/logger.js';
import {
  GitlabConfigurationError,
  GitlabHttpError,
  GitlabUnavailableError,
  isRetryable,
} from './errors.js';
import { countGitlabError } from '../../observability/metrics.js';
import { singleAttemptRequester } from './requester.js';

export interface GitlabConnection {
  url: string;
  token: string;
  project: string;
  /** Per request, in milliseconds. */
  timeoutMs: number;
  /** Attempts after the first for a failed request (429, 5xx, no answer). */
  retries: number;
  /** The first backoff delay; later ones double, with jitter. */
  backoffMs: number;
  /** The longest Retry-After racewatch will honour before giving up on this run. */
  maxRetryAfterMs: number;
}

export type Sleep = (ms: number) => Promise<void>;
export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export type GitlabApi = InstanceType<typeof Gitlab<false>>;

export interface GitlabClient {
  api: GitlabApi;
  project: string;
  /** Runs one GitLab call under racewatch's retry policy. */
  call<T>(what: string, request: (api: GitlabApi) => Promise<T>): Promise<T>;
}

export function createGitlabClient(connection: GitlabConnection, log: Logger, sleep: Sleep = realSleep): GitlabClient {
  const api = new Gitlab({
    host: connection.url.replace(/\/+$/, ''),
    token: connection.token,
    queryTimeout: connection.timeoutMs,
    requesterFn: singleAttemptRequester,
  } as ConstructorParameters<typeof Gitlab>[0]) as GitlabApi;

  async function call<T>(what: string, request: (api: GitlabApi) => Promise<T>): Promise<T> {
    let attempts = 0;
    try {
      return await pRetry(
        async () => {
          attempts += 1;
          try {
            return await request(api);
          } catch (error) {
            throw classify(error, connection);
          }
        },
        {
          retries: connection.retries,
          minTimeout: connection.backoffMs,
          factor: 2,
          randomize: true,
          maxTimeout: 60_000,
          shouldRetry: ({ error }) => isRetryable(error),
          onFailedAttempt: async ({ error, retriesLeft }) => {
            countGitlabError(statusOf(error));
            if (!isRetryable(error) || retriesLeft === 0) return;
            log.warn({ what, status: statusOf(error), retriesLeft }, `GitLab ${what} failed (${error.message}); retrying`);
            await honourRetryAfter(error, connection, sleep, log);
          },
        },
      );
    } catch (error) {
      if (error instanceof GitlabConfigurationError) throw error;
      if (isRetryable(error)) throw new GitlabUnavailableError(attempts, error as Error);
      throw error;
    }
  }

  return { api, project: connection.project, call };
}

async function honourRetryAfter(error: Error, connection: GitlabConnection, sleep: Sleep, log: Logger): Promise<void> {
  if (!(error instanceof GitlabHttpError) || error.retryAfterSeconds === null) return;
  const waitMs = error.retryAfterSeconds * 1000;
  if (waitMs > connection.maxRetryAfterMs) {
    throw new GitlabUnavailableError(1, new Error(`${error.message}; Retry-After ${error.retryAfterSeconds}s is longer than racewatch waits`));
  }
  log.info({ waitMs }, 'GitLab asked to retry later; waiting as Retry-After says');
  await sleep(waitMs);
}

function statusOf(error: unknown): number | undefined {
  return error instanceof GitlabHttpError ? error.status : undefined;
}

/** 401, 403 and a missing project mean the settings are wrong: say which, and never retry. */
function classify(error: unknown, connection: GitlabConnection): unknown {
  if (!(error instanceof GitlabHttpError)) return error;
  const said = error.detail ? ` (GitLab said: ${error.detail})` : '';
  if (error.status === 401) {
    return new AbortError(new GitlabConfigurationError(`GitLab rejected the token (401)${said}: check GITLAB_TOKEN or GITLAB_TOKEN_FILE`));
  }
  if (error.status === 403) {
    return new AbortError(
      new GitlabConfigurationError(`the token may not do this in project ${connection.project} (403)${said}: it needs the api scope and Reporter access or more`),
    );
  }
  if (error.status === 404 && /project/i.test(error.detail)) {
    return new AbortError(new GitlabConfigurationError(`GitLab has no project ${connection.project} visible to this token (404)${said}: check GITLAB_PROJECT`));
  }
  return error.retryable ? error : new AbortError(error);
}
