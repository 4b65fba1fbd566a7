import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';

export interface Reply {
  status: number;
  /** Objects and arrays are sent as JSON, strings as text/plain. */
  body: unknown;
  headers?: Record<string, string>;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly payload: Record<string, unknown>,
  ) {
    super(JSON.stringify(payload));
  }

  toReply(): Reply {
    return { status: this.status, body: this.payload };
  }
}

// Grape's own parameter validation renders {"error": "..."}; GitLab's helpers render {"message": ...}.
export const paramError = (message: string): ApiError => new ApiError(400, { error: message });
export const apiError = (status: number, message: unknown): ApiError => new ApiError(status, { message });
export const notFound = (what: string): ApiError => apiError(404, `404 ${what} Not Found`);
export const recordNotFound = (): ApiError => apiError(404, '404 Not found');
export const badRequest = (reason: string): ApiError => apiError(400, `400 Bad request - ${reason}`);
export const modelError = (field: string, message: string): ApiError => apiError(400, { [field]: [message] });

export function statusLine(status: number): string {
  return `${status} ${STATUS_CODES[status] ?? 'Unknown'}`;
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export type ParsedBody = { ok: true; value: unknown } | { ok: false };

export function parseBody(raw: Buffer, contentType: string | undefined): ParsedBody {
  if (raw.length === 0) return { ok: true, value: undefined };
  const text = raw.toString('utf8');
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/x-www-form-urlencoded') return { ok: true, value: queryToRecord(new URLSearchParams(text)) };
  if (type !== 'application/json') return { ok: true, value: text };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

export function queryToRecord(search: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [key, value] of search) {
    const previous = out[key];
    if (previous === undefined) out[key] = value;
    else out[key] = Array.isArray(previous) ? [...previous, value] : [previous, value];
  }
  return out;
}

export function send(res: ServerResponse, reply: Reply): void {
  if (res.destroyed || res.writableEnded) return;
  const isText = typeof reply.body === 'string';
  const payload = isText ? (reply.body as string) : JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    'content-type': isText ? 'text/plain; charset=utf-8' : 'application/json',
    'content-length': Buffer.byteLength(payload),
    ...reply.headers,
  });
  res.end(payload);
}
