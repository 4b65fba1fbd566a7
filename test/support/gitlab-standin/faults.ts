import { statusLine, type Reply } from './http.js';
import { seededRandom } from '../seeded-random.js';
import type { Fault, FlakyKind, FlakyMode } from './types.js';

const DEFAULT_RETRY_AFTER_SECONDS = 60;
// GitLab.com's authenticated API throttle (Rack::Attack), per minute.
const RATE_LIMIT = 2000;

interface ArmedFault {
  fault: Fault;
  remaining: number;
}

export class FaultQueue {
  private readonly armed: ArmedFault[] = [];

  add(fault: Fault): void {
    const times = fault.times ?? 1;
    if (!(times > 0)) throw new Error(`fault.times must be positive, got ${times}`);
    this.armed.push({ fault, remaining: times });
  }

  /** Disarms every fault. */
  clear(): void {
    this.armed.length = 0;
  }

  /** The first armed fault matching the request, counted down and disarmed when used up. */
  take(method: string, rawPath: string): Fault | undefined {
    const decodedPath = safeDecode(rawPath);
    const index = this.armed.findIndex(({ fault }) => matches(fault, method, rawPath, decodedPath));
    if (index < 0) return undefined;
    const entry = this.armed[index]!;
    entry.remaining -= 1;
    if (entry.remaining <= 0) this.armed.splice(index, 1);
    return entry.fault;
  }
}

export function isErrorFault(fault: Fault): boolean {
  return !fault.dropAfterServing && fault.status >= 400;
}

export function faultReply(fault: Fault): Reply {
  if (fault.status === 429) return rateLimitedReply(fault);
  if (fault.body === undefined) return { status: fault.status, body: { message: statusLine(fault.status) } };
  return { status: fault.status, body: fault.body, headers: { 'content-type': contentTypeOf(fault.body) } };
}

// Rack::Attack's throttled responder: plain-text body plus RateLimit-* and Retry-After headers.
function rateLimitedReply(fault: Fault): Reply {
  const retryAfter = fault.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS;
  const resetEpoch = Math.ceil(Date.now() / 1000) + retryAfter;
  return {
    status: 429,
    body: fault.body ?? 'Retry later\n',
    headers: {
      'retry-after': String(retryAfter),
      'ratelimit-name': 'throttle_authenticated_api',
      'ratelimit-limit': String(RATE_LIMIT),
      'ratelimit-observed': String(RATE_LIMIT + 1),
      'ratelimit-remaining': '0',
      'ratelimit-reset': String(resetEpoch),
      'ratelimit-resettime': new Date(resetEpoch * 1000).toUTCString(),
    },
  };
}

function matches(fault: Fault, method: string, rawPath: string, decodedPath: string): boolean {
  if (fault.method && fault.method.toUpperCase() !== method.toUpperCase()) return false;
  if (!fault.path) return true;
  return testRegExp(fault.path, rawPath) || testRegExp(fault.path, decodedPath);
}

// A /g or /y RegExp keeps lastIndex between calls; reset it so matching stays stateless.
function testRegExp(pattern: RegExp, text: string): boolean {
  pattern.lastIndex = 0;
  return pattern.test(text);
}

function contentTypeOf(body: string): string {
  try {
    JSON.parse(body);
    return 'application/json';
  } catch {
    return 'text/plain; charset=utf-8';
  }
}

export function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

export const FLAKY_KINDS: readonly FlakyKind[] = ['error500', 'error502', 'dropConnection', 'dropAfterServing', 'rateLimited', 'slowWrite'];

const WRITE_METHODS = new Set(['POST', 'PUT']);
export const isWriteMethod = (method: string): boolean => WRITE_METHODS.has(method.toUpperCase());

/** Seeded random faults: each request is hit with probability `rate`, by one kind that applies to its method. */
export class FlakyFaults {
  readonly hits: Record<FlakyKind, number> = Object.fromEntries(FLAKY_KINDS.map((kind) => [kind, 0])) as Record<FlakyKind, number>;
  private readonly random: () => number;
  private readonly slowWriteMs: [number, number];

  constructor(private readonly mode: FlakyMode) {
    if (!(mode.rate >= 0 && mode.rate <= 1)) throw new Error(`flaky rate must be within 0..1, got ${mode.rate}`);
    const unknown = mode.kinds.filter((kind) => !FLAKY_KINDS.includes(kind));
    if (mode.kinds.length === 0 || unknown.length > 0) throw new Error(`flaky kinds must be some of ${FLAKY_KINDS.join(', ')}; got ${mode.kinds.join(', ')}`);
    this.slowWriteMs = mode.slowWriteMs ?? [1000, 3000];
    if (!(this.slowWriteMs[0] >= 0 && this.slowWriteMs[1] >= this.slowWriteMs[0]))
      throw new Error(`slowWriteMs must be [min, max], got ${this.slowWriteMs.join(', ')}`);
    this.random = seededRandom(mode.seed);
  }

  /** The fault for this request, if it is hit. */
  take(method: string): Fault | undefined {
    const hit = this.random() < this.mode.rate;
    const pick = this.random();
    if (!hit) return undefined;
    const applicable = this.mode.kinds.filter((kind) => kind !== 'slowWrite' || isWriteMethod(method));
    if (applicable.length === 0) return undefined;
    const kind = applicable[Math.floor(pick * applicable.length)]!;
    this.hits[kind] += 1;
    return this.faultOf(kind);
  }

  private faultOf(kind: FlakyKind): Fault {
    switch (kind) {
      case 'error500':
        return { status: 500 };
      case 'error502':
        return { status: 502 };
      case 'dropConnection':
        return { status: 500, dropConnection: true };
      case 'dropAfterServing':
        return { status: 200, dropAfterServing: true };
      case 'rateLimited':
        return { status: 429, retryAfterSeconds: 1 };
      case 'slowWrite': {
        const [min, max] = this.slowWriteMs;
        return { status: 200, delayMs: Math.round(min + this.random() * (max - min)) };
      }
    }
  }
}
