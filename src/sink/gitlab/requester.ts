import { createRequesterFn } from '@gitbeaker/requester-utils';
import { GitlabHttpError, GitlabUnreachableError } from './errors.js';

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

async function singleAttempt(endpoint: string, options: RequestOptions = {}): Promise<ParsedResponse> {
  const { prefixUrl, searchParams, method = 'GET', body, headers, signal } = options;
  const base = prefixUrl?.endsWith('/') ? prefixUrl : `${prefixUrl ?? ''}/`;
  const url = new URL(endpoint, base);
  url.search = searchParams ?? '';
  let response: Response;
  try {
    response = await fetch(url, { method, body, headers, signal });
  } catch (error) {
    throw new GitlabUnreachableError(method, url.pathname, describeFetchFailure(error));
  }
  if (response.ok) return parse(response);
  const detail = withoutSecret(await errorDetail(response), headers?.['private-token'] ?? headers?.authorization);
  throw new GitlabHttpError(response.status, method, url.pathname, detail, retryAfterSeconds(response));
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

/** A proxy or a broken server may echo the request's token in its error: it must not reach a log. */
function withoutSecret(detail: string, secret: string | undefined): string {
  const token = secret?.replace(/^Bearer /, '');
  return token ? detail.split(token).join('[REDACTED]') : detail;
}

function retryAfterSeconds(response: Response): number | null {
  const header = response.headers.get('retry-after');
  if (!header) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.max(0, (date - Date.now()) / 1000);
}

export const singleAttemptRequester = createRequesterFn(
  (_serviceOptions: unknown, requestOptions: unknown) => Promise.resolve(requestOptions as Record<string, unknown>),
  singleAttempt as never,
);
