import { createHash } from 'node:crypto';
import { Needles } from '../bytes/needles.js';
import path from 'node:path';
import { createAnyFormatParser } from '../../parsers/any-format.js';
import type { ParserOptions, ReportFormat } from '../../parsers/format.js';
import { formatOf, selectFormats } from '../../parsers/registry.js';
import type { AbandonedReport, ParsedReport, ParserEvent, ReportLine, ReportParser } from '../../parsers/report.js';
import { LineSplitter } from '../decoder/line-splitter.js';
import { createUnwrapper, type Unwrapper, type WrapperName } from '../decoder/wrappers.js';
import type { FingerprintOptions } from '../fingerprint/fingerprint.js';
import type { RaceOccurrence } from './occurrence.js';

export interface ExtractOptions {
  maxLineBytes: number;
  customPrefix?: RegExp;
  fingerprint: FingerprintOptions;
  parser?: ParserOptions;
  /** The formats to find (parsers/registry.ts); all when unset. */
  formats?: readonly string[];
  /** GORACE `log_path` values: their `<log_path>.<pid>` files get the pid in their occurrence ids. */
  goraceLogPaths?: string[];
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

/** Where reading a source resumes: a line start, its number, and the source's first bytes (for occurrence ids). */
export interface ResumePoint {
  offset: number;
  line: number;
  head: Buffer;
}

/** Lines outside the grammar a new file may begin with before an offered report counts as not continued in it. */
const MAX_UNDECIDED_LINES = 20;

interface OfferedReport {
  parser: ReportParser;
  start: { offset: number; line: number };
  origin: RaceExtractor;
  /** The origin's parser and how far it had got when the offer was made: if either changes, the origin kept it. */
  originParser: ReportParser;
  originProgress: number;
  undecidedLines: number;
}
// Enough of a file's beginning to tell two files apart, so occurrence ids survive renames and gzip.
export const HEAD_BYTES = 1024;

/**
 * One source through decoder, parser and fingerprint, fed chunk by chunk. Lines are only decoded to text
 * when they contain the marker or a report is open: most of a soak log is never turned into strings.
 */
export class RaceExtractor {
  private parser: ReportParser;
  /** This source gave its open report to the next file of its path: resume stays at its marker until that report is done. */
  private lentAt: { offset: number; line: number } | null = null;
  /** This source continues a report begun in the previous file of its path (`origin`); `release` tells that file it is done. */
  private adopted: { start: { offset: number; line: number }; origin: RaceExtractor; release: () => void } | null = null;
  /** The previous file of this path left a report open: it may go on there or here, whichever moves first. */
  private offered: OfferedReport | null = null;
  /** The file this one offered its open report to (see offerOpenReportTo). */
  private offeredTo: RaceExtractor | null = null;
  private readonly unwrapper: Unwrapper;
  private readonly splitter: LineSplitter;
  private readonly head: HeadBytes;
  private readonly formats: EnabledFormats;
  /** The markers of every enabled format, searched as bytes: lines without one are skipped while no report is open. */
  private readonly marker: Needles;
  private events: ExtractEvent[] = [];
  private lastLine = 0;
  private readonly process: string | null;

  constructor(
    readonly source: string,
    private readonly options: ExtractOptions,
    resume: ResumePoint = { offset: 0, line: 1, head: Buffer.alloc(0) },
  ) {
    this.formats = formatsOf(options);
    this.marker = new Needles(this.formats.needles);
    this.parser = createAnyFormatParser(this.formats.list, options.parser ?? {});
    this.unwrapper = createUnwrapper({ maxLineChars: options.maxLineBytes, customPrefix: options.customPrefix });
    this.head = new HeadBytes(HEAD_BYTES, resume.offset === 0 ? Buffer.alloc(0) : resume.head);
    this.process = processOfRaceLog(source, options.goraceLogPaths ?? []);
    const filter = { needles: this.marker, skipping: () => this.waitsForMarker };
    this.splitter = new LineSplitter(options.maxLineBytes, (...line) => this.onLine(...line), resume, filter);
  }

  push(chunk: Buffer): ExtractEvent[] {
    this.marker.forget();
    this.head.add(chunk);
    this.splitter.push(chunk);
    return this.take();
  }

  /** The input ended: a last line without LF is a line, and an open report is closed as truncated. */
  end(): ExtractEvent[] {
    this.splitter.end();
    this.toEvents(this.parser.end());
    // A report offered and never taken stays the previous file's: it closes it there.
    this.offered = null;
    return this.take();
  }

  /**
   * The earliest point a restarted reader must go back to so that nothing is lost: the marker of the
   * report still open, or else the start of the next line.
   */
  get resumePoint(): ResumePoint {
    const open = this.adopted?.start ?? this.offered?.start ?? this.parser.openAt;
    const next = this.lentAt ?? open ?? this.splitter.nextLine;
    return { offset: next.offset, line: next.line, head: this.head.bytes() };
  }

  /**
   * Offers a report still open at the end of this file to `next`, the file that replaced this one at its
   * path (rotation). Where its rest lands depends on the writer: one that reopened the path writes it at
   * the start of `next`, one still holding the old descriptor writes it here. Both follow a copy; the
   * first to read a line of the report's grammar keeps it, so it is reported once, whole.
   */
  offerOpenReportTo(next: RaceExtractor): boolean {
    if (this.offered !== null && this.parser.idle) return this.passOfferOn(next);
    if (!this.parser.openAt) return false;
    this.offeredTo = next;
    next.offered = {
      parser: this.parser.fork(),
      start: next.splitter.nextLine,
      origin: this,
      originParser: this.parser,
      originProgress: this.parser.progress,
      undecidedLines: 0,
    };
    return true;
  }

  /**
   * This file was replaced before it showed whether it continues the report offered to it (two rotations
   * before the writer's next write: an empty generation between two others): the offer goes on to `next`.
   */
  private passOfferOn(next: RaceExtractor): boolean {
    const offer = this.offered!;
    this.offered = null;
    offer.origin.offeredTo = next;
    next.offered = { ...offer, start: next.splitter.nextLine };
    return true;
  }

  /** Closes a report left open (its writer went quiet or its file went away), keeping any partial line. */
  closeOpenReport(): ExtractEvent[] {
    this.toEvents(this.parser.end());
    return this.take();
  }

  get hasOpenReport(): boolean {
    return !this.parser.idle;
  }

  /**
   * The report left open here is the next file's to finish, or may be: offered and not decided yet, or
   * taken and not done. Until it is, a reader that stops must pair the two files again when it resumes.
   */
  get continuesInNextFile(): boolean {
    return this.lentAt !== null || this.offeredTo?.offered?.origin === this;
  }

  get bytesRead(): number {
    return this.splitter.bytesRead;
  }

  summary(): ExtractSummary {
    return { bytes: this.splitter.bytesRead, lines: this.lastLine, wrapper: this.unwrapper.detected };
  }

  private onLine(bytes: Buffer, start: number, end: number, line: number, offset: number, cut: boolean): void {
    this.lastLine = line;
    if (cut) this.events.push({ type: 'cut-line', source: this.source, line, offset, maxLineBytes: this.options.maxLineBytes });
    if (this.waitsForMarker && !this.marker.within(bytes, start, end)) return;
    const inner = this.unwrapper.unwrap(decodeText(bytes, start, end));
    if (inner === null) return;
    const reportLine = { text: inner, line, offset };
    if (this.offered && this.takesOffered(this.offered, reportLine)) return;
    this.toEvents(this.parser.push(reportLine));
  }

  /** No report open here or offered to this file: only a line with the marker can matter. */
  private get waitsForMarker(): boolean {
    return this.parser.idle && this.offered === null;
  }

  /** Feeds a line to the offered report; false when the offer is gone and the line is this file's own. */
  private takesOffered(offer: OfferedReport, line: ReportLine): boolean {
    const origin = offer.origin;
    const originMovedOn = origin.parser !== offer.originParser || origin.parser.idle || origin.parser.progress !== offer.originProgress;
    const before = offer.parser.progress;
    // A separator, a marker or output that only follows reports: this file begins with something of its own.
    if (originMovedOn || offer.parser.push(line).length > 0 || offer.parser.idle) return this.dropOffer();
    if (offer.parser.progress > before) {
      this.adopt(offer);
      return true;
    }
    offer.undecidedLines += 1;
    return offer.undecidedLines <= MAX_UNDECIDED_LINES || this.dropOffer();
  }

  private dropOffer(): false {
    this.offered = null;
    return false;
  }

  /** This file continues the offered report: the origin stops following its copy and resumes at its marker until it is done. */
  private adopt(offer: OfferedReport): void {
    const origin = offer.origin;
    this.offered = null;
    this.parser = offer.parser;
    this.adopted = { start: offer.start, origin, release: () => (origin.lentAt = null) };
    origin.lentAt = origin.parser.openAt;
    origin.parser = createAnyFormatParser(origin.formats.list, origin.options.parser ?? {});
  }

  private toEvents(events: ParserEvent[]): void {
    const adopted = this.adopted;
    if (events.length > 0 && adopted) {
      adopted.release();
      this.adopted = null;
    }
    events.forEach((event, k) => {
      // The report taken from the previous file belongs where its marker is: its id and place are that
      // file's, whichever file's reader happened to see its end.
      const at = k === 0 && adopted ? adopted.origin : this;
      if (event.type === 'report') {
        this.events.push({ type: 'race', occurrence: toOccurrence(at.source, event.report, at.head, this.options.fingerprint, at.process) });
      } else {
        this.events.push({ type: 'abandoned', source: at.source, abandoned: event.abandoned });
      }
    });
  }

  private take(): ExtractEvent[] {
    const out = this.events;
    this.events = [];
    return out;
  }
}

/** A whole source, start to end, as a stream of events (the one-off scan). */
export async function* extractRaces(source: string, chunks: AsyncIterable<Buffer>, options: ExtractOptions): AsyncGenerator<ExtractEvent, ExtractSummary> {
  const extractor = new RaceExtractor(source, options);
  for await (const chunk of chunks) {
    yield* extractor.push(chunk);
    yield { type: 'progress', source, bytes: extractor.bytesRead };
  }
  yield* extractor.end();
  return extractor.summary();
}

function decodeText(bytes: Buffer, start: number, end: number): string {
  const text = bytes.toString('utf8', start, end);
  // copytruncate and crashed writers leave NUL runs in logs; they are never part of a line's meaning.
  return text.includes('\0') ? text.replace(/\0+/g, '') : text;
}

class HeadBytes {
  private head: Buffer;
  constructor(
    private readonly limit: number,
    known: Buffer,
  ) {
    this.head = Buffer.from(known.subarray(0, limit));
  }

  add(chunk: Buffer): void {
    if (this.head.length >= this.limit) return;
    this.head = Buffer.concat([this.head, chunk.subarray(0, this.limit - this.head.length)]);
  }

  bytes(): Buffer {
    return this.head;
  }

  upTo(offset: number): Buffer {
    return this.head.subarray(0, Math.min(offset, this.limit));
  }
}

interface EnabledFormats {
  list: ReportFormat[];
  needles: string[];
}

const enabledFormats = new WeakMap<ExtractOptions, EnabledFormats>();

/** The formats the options enable (parsers/registry.ts), chosen once per set of options: every file of a run shares them. */
function formatsOf(options: ExtractOptions): EnabledFormats {
  let found = enabledFormats.get(options);
  if (!found) {
    const list = selectFormats(options.formats);
    found = { list, needles: list.flatMap((format) => [...format.needles]) };
    enabledFormats.set(options, found);
  }
  return found;
}

function toOccurrence(source: string, report: ParsedReport, head: HeadBytes, options: FingerprintOptions, process: string | null): RaceOccurrence {
  const format = formatOf(report);
  const fingerprint = format.fingerprint(report, options);
  const { key, title, sides, ...identity } = fingerprint;
  return {
    id: occurrenceId(head.upTo(report.markerOffset), report, process),
    fingerprint: key,
    title,
    sides,
    identity,
    facts: format.facts(report, fingerprint),
    details: format.details(report),
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
 * The same log renamed, rotated to `.1` or gzipped yields the same ids; a different log does not. Files
 * the race runtime writes per process (GORACE `log_path`) can be byte-identical, so there the pid in the
 * name is part of the identity too; other ids are unchanged by it.
 */
function occurrenceId(headBefore: Buffer, report: ParsedReport, process: string | null): string {
  const hash = createHash('sha256');
  hash.update(headBefore).update(`\0${report.markerOffset}\0`).update(report.text);
  if (process !== null) hash.update(`\0gorace-pid:${process}`);
  return hash.digest('hex').slice(0, 32);
}

/** The pid of a `<log_path>.<pid>` file the race runtime wrote, or null for any other source. */
function processOfRaceLog(source: string, logPaths: string[]): string | null {
  const file = path.resolve(source);
  for (const logPath of logPaths) {
    const prefix = `${path.resolve(logPath)}.`;
    const rest = file.startsWith(prefix) ? file.slice(prefix.length) : '';
    if (/^\d+$/.test(rest)) return rest;
  }
  return null;
}
