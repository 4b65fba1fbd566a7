// Deterministic soak logs for the bench: pseudo-random ordinary log lines (~100 bytes each) with one real
// race report inserted every `reportEvery` bytes, written once plain and once with a syslog prefix on
// every line. Streamed in ~1 MiB chunks, each write awaited (backpressure): memory stays flat at any size.
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { SampleReport } from './reports.js';
import { seededRandom } from '../../test/support/seeded-random.js';

export type Variant = 'plain' | 'syslog';

export interface InsertedReport {
  /** Index into the report list given to `generateLogs`. */
  report: number;
  /** 1-based line number and byte offset of the `WARNING: DATA RACE` line's start, as racewatch reports them. */
  line: number;
  offset: number;
}

export interface GeneratedLog {
  path: string;
  variant: Variant;
  /** `big` (1 GiB by default) or `small` (100 MiB): the small one is a prefix of the big one, cut at a line end. */
  size: 'big' | 'small';
  bytes: number;
  lines: number;
  inserted: InsertedReport[];
}

export interface GenerateOptions {
  dir: string;
  /** Target sizes of the plain logs; each ends at the first line end at or past its target. */
  bigBytes: number;
  smallBytes: number;
  reportEvery: number;
  reports: SampleReport[];
  seed?: number;
}

const CHUNK_CHARS = 1 << 20;
const SYSLOG_HOST = 'soak-3';
const SYSLOG_IDENT = 'soakd[4242]';
const START_MS = Date.UTC(2026, 10, 23, 6, 0, 0);
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const STATUSES = [200, 200, 200, 200, 200, 200, 200, 200, 201, 204, 304, 404, 500];
const TABLES = ['orders', 'sessions', 'items', 'audit_log', 'quotas'];
const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi'];

const pad = (n: number, width: number) => String(n).padStart(width, '0');

class Output {
  bytes = 0;
  lines = 0;
  readonly inserted: InsertedReport[] = [];
  private parts: string[] = [];
  private chars = 0;
  open = true;

  constructor(
    readonly log: Omit<GeneratedLog, 'bytes' | 'lines' | 'inserted'>,
    private readonly fh: FileHandle,
  ) {}

  add(text: string, byteLength: number, lines: number): void {
    this.parts.push(text);
    this.chars += text.length;
    this.bytes += byteLength;
    this.lines += lines;
  }

  get full(): boolean {
    return this.chars >= CHUNK_CHARS;
  }

  async flush(): Promise<void> {
    if (this.parts.length === 0) return;
    const buf = Buffer.from(this.parts.join(''), 'utf8');
    this.parts = [];
    this.chars = 0;
    let done = 0;
    while (done < buf.length) done += (await this.fh.write(buf, done, buf.length - done)).bytesWritten;
  }

  async close(): Promise<GeneratedLog> {
    await this.flush();
    await this.fh.close();
    this.open = false;
    return { ...this.log, bytes: this.bytes, lines: this.lines, inserted: this.inserted };
  }
}

export async function generateLogs(opts: GenerateOptions): Promise<GeneratedLog[]> {
  const rand = seededRandom(opts.seed ?? 20261123);
  const int = (n: number) => Math.floor(rand() * n);
  const specs: Array<Omit<GeneratedLog, 'bytes' | 'lines' | 'inserted'>> = [
    { path: path.join(opts.dir, 'soak-big.log'), variant: 'plain', size: 'big' },
    { path: path.join(opts.dir, 'soak-big.syslog.log'), variant: 'syslog', size: 'big' },
    { path: path.join(opts.dir, 'soak-small.log'), variant: 'plain', size: 'small' },
    { path: path.join(opts.dir, 'soak-small.syslog.log'), variant: 'syslog', size: 'small' },
  ];
  await mkdir(opts.dir, { recursive: true });
  const outputs: Output[] = [];
  for (const spec of specs) outputs.push(new Output(spec, await open(spec.path, 'w')));
  const [plainBig] = outputs as [Output, Output, Output, Output];
  const done: GeneratedLog[] = [];

  // Clock: microseconds since START_MS; the formatted second is cached.
  let micros = 0;
  let cachedSecond = -1;
  let goStamp = '';
  let syslogPrefix = '';
  const stamp = () => {
    const second = Math.floor(micros / 1e6);
    if (second !== cachedSecond) {
      cachedSecond = second;
      const d = new Date(START_MS + second * 1000);
      const hms = `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`;
      goStamp = `${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1, 2)}/${pad(d.getUTCDate(), 2)} ${hms}`;
      syslogPrefix = `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${hms} ${SYSLOG_HOST} ${SYSLOG_IDENT}: `;
    }
  };

  const ordinaryLine = (): string => {
    const pick = int(100);
    const ms = `${int(400)}.${int(10)}`;
    if (pick < 60) return `request served path=/api/v1/items/${int(100000)} status=${STATUSES[int(STATUSES.length)]} bytes=${int(65536)} duration=${ms}ms`;
    if (pick < 75) return `request served path=/api/v1/users/${int(5000)}/sessions method=GET status=200 bytes=${int(4096)} duration=${ms}ms`;
    if (pick < 85) return `cache refresh shard=${int(64)} keys=${int(100000)} evicted=${int(500)} took=${ms}ms generation=${int(1e6)}`;
    if (pick < 95) return `db query table=${TABLES[int(TABLES.length)]} rows=${int(1000)} duration=${ms}ms pool_in_use=${int(32)}/32 retries=0`;
    return `login user=${USERS[int(USERS.length)]} status=200 session=${int(0x7fffffff).toString(16).padStart(8, '0')}${int(0x7fffffff).toString(16).padStart(8, '0')}`;
  };

  // Each open output gets the same lines; the syslog ones with the prefix.
  const emitLine = (body: string, bodyBytes: number) => {
    const plain = `${body}\n`;
    const syslog = `${syslogPrefix}${body}\n`;
    for (const out of outputs) {
      if (!out.open) continue;
      if (out.log.variant === 'plain') out.add(plain, bodyBytes + 1, 1);
      else out.add(syslog, syslogPrefix.length + bodyBytes + 1, 1);
    }
  };

  const flushIfFull = async () => {
    if (plainBig.full) for (const out of outputs) if (out.open) await out.flush();
  };

  let nextReportAt = opts.reportEvery;
  let nextReport = 0;
  const smallOutputs = outputs.filter((o) => o.log.size === 'small');
  while (plainBig.bytes < opts.bigBytes) {
    micros += 200 + int(800);
    stamp();
    const micro = pad(micros % 1e6, 6);
    const body = `${goStamp}.${micro} ${ordinaryLine()}`;
    emitLine(body, body.length); // ordinary lines are ASCII
    if (plainBig.bytes >= nextReportAt) {
      const index = nextReport % opts.reports.length;
      nextReport += 1;
      nextReportAt += opts.reportEvery;
      const lines = opts.reports[index]!.lines;
      for (const out of outputs) {
        if (!out.open) continue;
        // The marker line starts right after the opening `==================` line (and its prefix).
        const firstLinePrefix = out.log.variant === 'syslog' ? syslogPrefix.length : 0;
        out.inserted.push({ report: index, line: out.lines + 2, offset: out.bytes + firstLinePrefix + Buffer.byteLength(lines[0]!) + 1 });
      }
      for (const line of lines) emitLine(line, Buffer.byteLength(line));
    }
    await flushIfFull();
    if (smallOutputs[0]!.open && smallOutputs.find((o) => o.log.variant === 'plain')!.bytes >= opts.smallBytes) {
      for (const out of smallOutputs) done.push(await out.close());
    }
  }
  for (const out of outputs) if (out.open) done.push(await out.close());
  return specs.map((spec) => done.find((log) => log.path === spec.path)!);
}
