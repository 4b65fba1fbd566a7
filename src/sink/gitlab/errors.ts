/** What can go wrong talking to GitLab, sorted by what racewatch should do about it. */

/** GitLab answered with an error status. */
export class GitlabHttpError extends Error {
  constructor(
    readonly status: number,
    readonly method: string,
    readonly endpoint: string,
    readonly detail: string,
    readonly retryAfterSeconds: number | null,
  ) {
    super(`GitLab answered ${status} to ${method} ${endpoint}${detail ? `: ${detail}` : ''}`);
    this.name = 'GitlabHttpError';
  }

  get retryable(): boolean {
    return this.status === 429 || this.status >= 500;
  }
}

/** No answer at all: connection refused or reset, DNS, timeout. */
export class GitlabUnreachableError extends Error {
  constructor(
    readonly method: string,
    readonly endpoint: string,
    reason: string,
    /** False when the request provably never reached GitLab (connection refused, no such host). */
    readonly sent = true,
  ) {
    super(`GitLab did not answer ${method} ${endpoint}: ${reason}`);
    this.name = 'GitlabUnreachableError';
  }
}

/** The settings cannot work (bad token, no access, no such project): retrying would never help. */
export class GitlabConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GitlabConfigurationError';
  }
}

/** Retries ran out; the sightings stay pending for a later run. */
export class GitlabUnavailableError extends Error {
  constructor(
    readonly attempts: number,
    readonly lastError: Error,
  ) {
    super(`GitLab unavailable after ${attempts} attempt(s): ${lastError.message}`);
    this.name = 'GitlabUnavailableError';
  }
}

/** racewatch is stopping: the request was not started, or was abandoned. */
export class GitlabStoppedError extends Error {
  constructor() {
    super('racewatch is stopping; GitLab requests were abandoned');
    this.name = 'GitlabStoppedError';
  }
}

/**
 * A failed write that GitLab may still have carried out: no answer after sending, or a 5xx (a proxy's 502
 * or 504 can come after the application committed). 429 and refused connections mean it was not done.
 */
export function mayHaveTakenEffect(error: unknown): boolean {
  if (error instanceof GitlabUnreachableError) return error.sent;
  return error instanceof GitlabHttpError && error.status >= 500;
}

export function isRetryable(error: unknown): boolean {
  if (error instanceof GitlabUnreachableError) return true;
  return error instanceof GitlabHttpError && error.retryable;
}
