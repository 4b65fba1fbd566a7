import { createRequesterFn } from '@gitbeaker/requester-utils';
import { GitlabConfigurationError, GitlabHttpError, GitlabUnreachableError } from './errors.js';
import { redactSecrets, secretsInHeaders } from './redact.js';

/**
 * One HTTP attempt per call, with the status and Retry-After kept on the error. gitbeaker's own requester
 * retries 429/502 for about 256 ms, ignores Retry-After and then throws an error without the status, so
 * racewatch owns the retry policy instead (see client.ts).
 */
interface RequestOptions {
  prefixUrl?: string;
  searchParams?: string;
  method?: string;
  body?: string | Blob | FormData;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  asStream?: boolean;
  [key: string]: unknown;
}

interface ParsedResponse {
  body: unknown;
  headers: Record<string, string>;
  status: number;
}

async function singleAttempt(endpoint: string, options: RequestOptions, stop: AbortSignal): Promise<ParsedResponse> {
  const { prefixUrl, searchParams, method = 'GET', body, headers } = options;
  const signal = options.signal ? AbortSignal.any([options.signal, stop]) : stop;
  const base = prefixUrl?.endsWith('/') ? prefixUrl : `${prefixUrl ?? ''}/`;
  // Every text this layer puts in an error goes through here: fetch's errors quote header values and URLs.
  const secrets = secretsInHeaders(headers);
  const redact = (text: string) => redactSecrets(text, secrets);
  let url: URL;
  try {
    url = new URL(endpoint, base);
  } catch {
    // Only a GITLAB_URL that the settings should have refused gets here; the URL itself is not repeated.
    throw new GitlabConfigurationError(`GITLAB_URL cannot be used to reach GitLab (no valid URL for ${redact(endpoint)}): use https://your.gitlab.host`);
  }
  url.search = searchParams ?? '';
  let response: Response;
  try {
    response = await fetch(url, { method, body, headers, signal });
  } catch (error) {
    throw new GitlabUnreachableError(method, redact(url.pathname), redact(describeFetchFailure(error)), wasSent(error));
  }
  if (response.ok) return parse(response);
  // A proxy or a broken server may echo the request's token in its error: it must not reach a log.
  const detail = redact(await errorDetail(response));
  throw new GitlabHttpError(response.status, method, redact(url.pathname), detail, retryAfterSeconds(response));
}

// Failures that happen before a byte of the request left: GitLab cannot have acted on it.
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

function wasSent(error: unknown): boolean {
  const code = (error as { cause?: { code?: string } }).cause?.code;
  return code === undefined || !NOT_SENT_CODES.has(code);
}

function describeFetchFailure(error: unknown): string {
  const err = error as Error & { cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return 'timed out';
  return err.cause?.code ?? err.cause?.message ?? err.message;
}

async function parse(response: Response): Promise<ParsedResponse> {
  const headers = Object.fromEntries(response.headers.entries());
  const type = (response.headers.get('content-type') ?? '').split(';')[0]!.trim();
  let body: unknown = null;
  if (response.status !== 204) body = type === 'application/json' ? ((await response.json()) ?? {}) : await response.text();
  return { body, headers, status: response.status };
}

async function errorDetail(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  try {
    const json = JSON.parse(text) as { message?: unknown; error?: unknown };
    const detail = json.message ?? json.error ?? text;
    return typeof detail === 'string' ? detail : JSON.stringify(detail);
  } catch {
    return text.slice(0, 500);
  }
}

function retryAfterSeconds(response: Response): number | null {
  const header = response.headers.get('retry-after');
  if (!header) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.max(0, (date - Date.now()) / 1000);
}

/** The requester of one client: `stop` abandons every request of that client at once. */
export function singleAttemptRequester(stop: AbortSignal): ReturnType<typeof createRequesterFn> {
  return createRequesterFn((_serviceOptions: unknown, requestOptions: unknown) => Promise.resolve(requestOptions as Record<string, unknown>), ((
    endpoint: string,
    options: RequestOptions = {},
  ) => singleAttempt(endpoint, options, stop)) as never);
}
