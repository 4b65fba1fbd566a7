import { Gitlab } from '@gitbeaker/rest';
import pRetry, { AbortError } from 'p-retry';
import type { Logger } from '../../log/logger.js';
import { GitlabConfigurationError, GitlabHttpError, GitlabStoppedError, GitlabUnavailableError, isRetryable } from './errors.js';
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
  /** How long a write that got no answer may still take effect in GitLab: it is looked for this long before it is sent again. */
  settleMs: number;
}

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;
export const realSleep: Sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new GitlabStoppedError());
    const timer = setTimeout(done, ms);
    function done(): void {
      signal?.removeEventListener('abort', stopped);
      resolve();
    }
    function stopped(): void {
      clearTimeout(timer);
      reject(new GitlabStoppedError());
    }
    signal?.addEventListener('abort', stopped, { once: true });
  });

export type GitlabApi = InstanceType<typeof Gitlab<false>>;

export interface GitlabClient {
  api: GitlabApi;
  project: string;
  connection: GitlabConnection;
  /** Runs one GitLab read under racewatch's retry policy. */
  call<T>(what: string, request: (api: GitlabApi) => Promise<T>): Promise<T>;
  /** One attempt, never retried: writes decide themselves whether sending again is safe. */
  attempt<T>(what: string, request: (api: GitlabApi) => Promise<T>): Promise<T>;
  /** The pause before retry number `retry` (0-based): Retry-After when GitLab gave one, else backoff. */
  pauseBeforeRetry(error: unknown, retry: number): Promise<void>;
  pause(ms: number): Promise<void>;
  /** After this no request starts, requests under way are abandoned, and pauses end at once. */
  stop(): void;
  readonly stopped: boolean;
}

export function createGitlabClient(connection: GitlabConnection, log: Logger, sleep: Sleep = realSleep): GitlabClient {
  const stopping = new AbortController();
  const api = new Gitlab({
    host: connection.url.replace(/\/+$/, ''),
    token: connection.token,
    queryTimeout: connection.timeoutMs,
    requesterFn: singleAttemptRequester(stopping.signal),
  } as ConstructorParameters<typeof Gitlab>[0]) as GitlabApi;

  async function attempt<T>(what: string, request: (api: GitlabApi) => Promise<T>): Promise<T> {
    if (stopping.signal.aborted) throw new GitlabStoppedError();
    try {
      return await request(api);
    } catch (error) {
      if (stopping.signal.aborted) throw new GitlabStoppedError();
      countGitlabError(statusOf(error));
      const classified = classify(error, connection);
      if (isRetryable(classified)) log.warn({ what, status: statusOf(error) }, `GitLab ${what} failed (${(classified as Error).message})`);
      throw classified;
    }
  }

  async function call<T>(what: string, request: (api: GitlabApi) => Promise<T>): Promise<T> {
    let attempts = 0;
    try {
      return await pRetry(
        async () => {
          attempts += 1;
          try {
            return await attempt(what, request);
          } catch (error) {
            throw isRetryable(error) ? error : new AbortError(error as Error);
          }
        },
        {
          retries: connection.retries,
          minTimeout: connection.backoffMs,
          factor: 2,
          randomize: true,
          maxTimeout: 60_000,
          signal: stopping.signal,
          shouldRetry: ({ error }) => isRetryable(error),
          onFailedAttempt: async ({ error, retriesLeft }) => {
            if (isRetryable(error) && retriesLeft > 0) await honourRetryAfter(error);
          },
        },
      );
    } catch (error) {
      if (stopping.signal.aborted) throw new GitlabStoppedError();
      if (isRetryable(error)) throw new GitlabUnavailableError(attempts, error as Error);
      throw error;
    }
  }

  async function honourRetryAfter(error: Error): Promise<boolean> {
    if (!(error instanceof GitlabHttpError) || error.retryAfterSeconds === null) return false;
    const waitMs = error.retryAfterSeconds * 1000;
    if (waitMs > connection.maxRetryAfterMs) {
      throw new GitlabUnavailableError(1, new Error(`${error.message}; Retry-After ${error.retryAfterSeconds}s is longer than racewatch waits`));
    }
    log.info({ waitMs }, 'GitLab asked to retry later; waiting as Retry-After says');
    await sleep(waitMs, stopping.signal);
    return true;
  }

  async function pauseBeforeRetry(error: unknown, retry: number): Promise<void> {
    if (await honourRetryAfter(error as Error)) return;
    const backoff = Math.min(60_000, connection.backoffMs * 2 ** retry);
    await sleep(backoff * (1 + Math.random()), stopping.signal);
  }

  return {
    api,
    project: connection.project,
    connection,
    call,
    attempt,
    pauseBeforeRetry,
    pause: (ms) => sleep(ms, stopping.signal),
    stop: () => stopping.abort(),
    get stopped() {
      return stopping.signal.aborted;
    },
  };
}

function statusOf(error: unknown): number | undefined {
  return error instanceof GitlabHttpError ? error.status : undefined;
}

/** 401, 403 and a missing project mean the settings are wrong: say which, and never retry. */
function classify(error: unknown, connection: GitlabConnection): unknown {
  if (!(error instanceof GitlabHttpError)) return error;
  const said = error.detail ? ` (GitLab said: ${error.detail})` : '';
  if (error.status === 401) {
    return new GitlabConfigurationError(`GitLab rejected the token (401)${said}: check GITLAB_TOKEN or GITLAB_TOKEN_FILE`);
  }
  if (error.status === 403) {
    return new GitlabConfigurationError(
      `the token may not do this in project ${connection.project} (403)${said}: it needs the api scope and Reporter access or more`,
    );
  }
  if (error.status === 404 && /project/i.test(error.detail)) {
    return new GitlabConfigurationError(`GitLab has no project ${connection.project} visible to this token (404)${said}: check GITLAB_PROJECT`);
  }
  return error;
}
