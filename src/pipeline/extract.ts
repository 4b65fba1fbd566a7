import { createHash } from 'node:crypto';
import { createGoRaceParser, GO_RACE_MARKER, type GoRaceParserOptions } from '../../parsers/go-race.js';
import type { AbandonedReport, ParsedReport, ParserEvent } from '../../parsers/report.js';
import { LineSplitter } from '../decoder/line-splitter.js';
import { createUnwrapper, type WrapperName } from '../decoder/wrappers.js';
import { fingerprintAccesses, type FingerprintOptions } from '../fingerprint/fingerprint.js';
import type { RaceOccurrence } from './occurrence.js';

export interface ExtractOptions {
  maxLineBytes: number;
  customPrefix?: RegExp;
  fingerprint: FingerprintOptions;
  parser?: GoRaceParserOptions;
}

export type ExtractEvent =
  | { type: 'race'; occurrence: RaceOccurrence }
  | { type: 'abandoned'; source: string; abandoned: AbandonedReport }
  | { type: 'cut-line'; source: string; line: number; offset: number; maxLineBytes: number }
  | { type: 'progress'; source: string; bytes: number };

export interface ExtractSummary {
  bytes: number;
  lines: number;
  wrapper: WrapperName;
}

const MARKER = Buffer.from(GO_RACE_MARKER);
// Enough of a file's beginning to tell two files apart, so occurrence ids survive renames and gzip.
const HEAD_BYTES = 1024;

/**
 * Runs one source through decoder, parser and fingerprint. Lines are only decoded to text when they
 * contain the marker or a report is open: most of a soak log is never turned into strings.
 */
export async function* extractRaces(
  source: string,
  chunks: AsyncIterable<Buffer>,
  options: ExtractOptions,
): AsyncGenerator<ExtractEvent, ExtractSummary> {
  const parser = createGoRaceParser(options.parser);
  const unwrapper = createUnwrapper({ maxLineChars: options.maxLineBytes, customPrefix: options.customPrefix });
  const head = new HeadBytes(HEAD_BYTES);
  const marker = new MarkerCursor();
  let pending: ExtractEvent[] = [];
  let lines = 0;

  const toEvents = (events: ParserEvent[]): void => {
    for (const event of events) {
      if (event.type === 'report') {
        pending.push({ type: 'race', occurrence: toOccurrence(source, event.report, head, options.fingerprint) });
      } else {
        pending.push({ type: 'abandoned', source, abandoned: event.abandoned });
      }
    }
  };

  const splitter = new LineSplitter(options.maxLineBytes, (bytes, start, end, line, offset, cut) => {
    lines = line;
    if (cut) pending.push({ type: 'cut-line', source, line, offset, maxLineBytes: options.maxLineBytes });
    if (parser.idle && !marker.within(bytes, start, end)) return;
    const inner = unwrapper.unwrap(decodeText(bytes, start, end));
    if (inner !== null) toEvents(parser.push({ text: inner, line, offset }));
  });

  for await (const chunk of chunks) {
    head.add(chunk);
    splitter.push(chunk);
    pending.push({ type: 'progress', source, bytes: splitter.bytesRead });
    yield* flush();
  }
  splitter.end();
  toEvents(parser.end());
  yield* flush();
  return { bytes: splitter.bytesRead, lines, wrapper: unwrapper.detected };

  function flush(): ExtractEvent[] {
    const out = pending;
    pending = [];
    return out;
  }
}

function decodeText(bytes: Buffer, start: number, end: number): string {
  const text = bytes.toString('utf8', start, end);
  // copytruncate and crashed writers leave NUL runs in logs; they are never part of a line's meaning.
  return text.includes('\0') ? text.replace(/\0+/g, '') : text;
}

/** Finds the marker once per buffer position instead of once per line. */
class MarkerCursor {
  private buffer: Buffer | null = null;
  private next = -1;

  within(bytes: Buffer, start: number, end: number): boolean {
    if (bytes !== this.buffer || (this.next !== -1 && this.next < start)) {
      this.buffer = bytes;
      this.next = bytes.indexOf(MARKER, start);
    }
    return this.next !== -1 && this.next + MARKER.length <= end;
  }
}

class HeadBytes {
  private parts: Buffer[] = [];
  private length = 0;
  constructor(private readonly limit: number) {}

  add(chunk: Buffer): void {
    if (this.length >= this.limit) return;
    const part = chunk.subarray(0, this.limit - this.length);
    this.parts.push(Buffer.from(part));
    this.length += part.length;
  }

  upTo(offset: number): Buffer {
    return Buffer.concat(this.parts, this.length).subarray(0, Math.min(offset, this.limit));
  }
}

function toOccurrence(
  source: string,
  report: ParsedReport,
  head: HeadBytes,
  options: FingerprintOptions,
): RaceOccurrence {
  const fingerprint = fingerprintAccesses(report.accesses, options);
  return {
    id: occurrenceId(head.upTo(report.markerOffset), report),
    fingerprint: fingerprint.key,
    title: fingerprint.title,
    sides: fingerprint.sides,
    source,
    line: report.markerLine,
    offset: report.markerOffset,
    truncated: report.truncated,
    text: report.text,
    report,
  };
}

/**
 * Identity of an occurrence from content alone: the bytes before it (up to 1 KiB), its offset and its text.
 * The same log renamed, rotated to `.1` or gzipped yields the same ids; a different log does not.
 */
function occurrenceId(headBefore: Buffer, report: ParsedReport): string {
  const hash = createHash('sha256');
  hash.update(headBefore).update(`\0${report.markerOffset}\0`).update(report.text);
  return hash.digest('hex').slice(0, 32);
}
