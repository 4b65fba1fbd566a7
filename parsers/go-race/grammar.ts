/**
 * Go race detector reports (`WARNING: DATA RACE` ... `==================`), parsed as a grammar so that
 * foreign lines written between a report's lines are skipped instead of breaking it.
 * Grammar: ../../../shared/reference/race-format-sources.md §1.1 (the Go branch of tsan_report.cpp).
 */
import type { ParserOptions } from '../format.js';
import type { AbandonedReport, ParserEvent, ReportLine, ReportParser } from '../report.js';
import type { Access, Frame, GoRaceReport, GoroutineOrigin, Stack } from './model.js';

export const GO_RACE_MARKER = 'WARNING: DATA RACE';

const SEPARATOR = /^={18,}$/;
// A separator glued to the marker happens when two writers share a line (OBS in race-format-sources §6).
const MARKER_LINE = /^(?:=+)?WARNING: DATA RACE$/;
const ACCESS = /^(Read|Write|Previous read|Previous write)(?: at (0x[0-9a-fA-F]+))? by (?:main goroutine|goroutine (\d+)):$/;
const CREATION = /^Goroutine (\d+) \((running|finished)\) created at:$/;
const LOST_STACK = /^\s+\[failed to restore the stack\]$/;
const FUNCTION = /^ +(\S+)\(\)$/;
const LOCATION = /^ +(\S.*):(\d+)(?: \+0x[0-9a-fA-F]+)?$/;
const LOCATION_SECTION = /^(?:Heap block of size \d+|Global var |Location is )/;
const BLANK = /^\s*$/;
// Output that only ever follows a report: if one is still open, the rest of it was lost.
const AFTER_REPORT = [
  /^Found \d+ data race\(s\)$/,
  /^\s*testing\.go:\d+: race detected during execution of test$/,
  /^--- (?:FAIL|PASS|SKIP):/,
  /^(?:FAIL|PASS|ok)(?:\s|$)/,
  /^exit status \d+$/,
  /^fatal error: /,
  /^panic: /,
  /^goroutine \d+ \[/,
  /^SIG[A-Z]+: /,
];

type Section = { kind: 'preamble' } | { kind: 'access'; stack: Stack } | { kind: 'creation'; stack: Stack } | { kind: 'location' };

interface OpenReport {
  markerLine: number;
  markerOffset: number;
  accesses: Access[];
  creations: GoroutineOrigin[];
  section: Section;
  pendingFrame: Frame | null;
  textLines: string[];
  textChars: number;
  foreignRun: number;
  /** Lines of the grammar taken so far, blank lines aside: whether a copy of this report has moved on. */
  progress: number;
}

export function isGoRaceMarker(text: string): boolean {
  return MARKER_LINE.test(text);
}

export function createGoRaceParser(options: ParserOptions = {}): ReportParser {
  return parserFrom(options, null);
}

function parserFrom(options: ParserOptions, resumed: OpenReport | null): ReportParser {
  const maxForeignRun = options.maxForeignRun ?? 200;
  const maxTextChars = options.maxTextChars ?? 256 * 1024;
  let open: OpenReport | null = resumed;

  function start(line: ReportLine): void {
    open = {
      markerLine: line.line,
      markerOffset: line.offset,
      accesses: [],
      creations: [],
      section: { kind: 'preamble' },
      pendingFrame: null,
      textLines: [],
      textChars: 0,
      foreignRun: 0,
      progress: 0,
    };
    keep(open, GO_RACE_MARKER);
  }

  function keep(report: OpenReport, text: string): void {
    report.foreignRun = 0;
    if (report.textChars + text.length > maxTextChars) return;
    report.textLines.push(text);
    report.textChars += text.length + 1;
  }

  function finish(truncated: boolean): ParserEvent[] {
    const report = open;
    open = null;
    if (!report) return [];
    if (report.accesses.length === 0) {
      const abandoned: AbandonedReport = {
        line: report.markerLine,
        offset: report.markerOffset,
        reason: 'race marker with no access after it',
      };
      return [{ type: 'abandoned', abandoned }];
    }
    const parsed: GoRaceReport = {
      format: 'go-race',
      kind: 'data-race',
      accesses: report.accesses,
      creations: report.creations,
      text: report.textLines.join('\n'),
      markerLine: report.markerLine,
      markerOffset: report.markerOffset,
      // A separator can also be the opening line of the next report, after a writer died mid-report.
      truncated: truncated || report.accesses.length < 2,
    };
    return [{ type: 'report', report: parsed }];
  }

  function pushInReport(report: OpenReport, line: ReportLine): ParserEvent[] {
    const text = line.text;
    if (SEPARATOR.test(text)) {
      keep(report, text);
      return finish(false);
    }
    if (MARKER_LINE.test(text)) {
      const events = finish(true);
      start(line);
      return events;
    }
    if (AFTER_REPORT.some((pattern) => pattern.test(text))) return finish(true);
    if (consumeGrammarLine(report, text)) {
      if (!BLANK.test(text)) report.progress += 1;
      keep(report, text);
      return [];
    }
    report.foreignRun += 1;
    return report.foreignRun >= maxForeignRun ? finish(true) : [];
  }

  return {
    get idle() {
      return open === null;
    },
    get openAt() {
      const report = open as OpenReport | null;
      return report ? { line: report.markerLine, offset: report.markerOffset } : null;
    },
    get progress() {
      return (open as OpenReport | null)?.progress ?? 0;
    },
    fork() {
      return parserFrom(options, open && structuredClone(open));
    },
    push(line) {
      if (open) return pushInReport(open, line);
      if (MARKER_LINE.test(line.text)) start(line);
      return [];
    },
    end() {
      return finish(true);
    },
  };
}

/** Applies a line of the report grammar to the open report; false when the line is not part of it. */
function consumeGrammarLine(report: OpenReport, text: string): boolean {
  const access = ACCESS.exec(text);
  if (access) {
    const stack: Stack = { frames: [], lost: false };
    report.accesses.push(accessFrom(access, stack));
    enterSection(report, { kind: 'access', stack });
    return true;
  }
  const creation = CREATION.exec(text);
  if (creation) {
    const stack: Stack = { frames: [], lost: false };
    report.creations.push({
      goroutine: Number(creation[1]),
      state: creation[2] as GoroutineOrigin['state'],
      stack,
    });
    enterSection(report, { kind: 'creation', stack });
    return true;
  }
  if (LOCATION_SECTION.test(text)) {
    enterSection(report, { kind: 'location' });
    return true;
  }
  if (BLANK.test(text)) return true;
  return consumeStackLine(report, text);
}

function consumeStackLine(report: OpenReport, text: string): boolean {
  const section = report.section;
  if (section.kind === 'preamble') return false;
  if (LOST_STACK.test(text)) {
    if (section.kind !== 'location') section.stack.lost = true;
    return true;
  }
  const fn = FUNCTION.exec(text);
  if (fn) {
    const frame: Frame = { func: fn[1]!, file: '', line: 0 };
    if (section.kind !== 'location') section.stack.frames.push(frame);
    report.pendingFrame = frame;
    return true;
  }
  const location = LOCATION.exec(text);
  if (location && report.pendingFrame) {
    report.pendingFrame.file = location[1]!;
    report.pendingFrame.line = Number(location[2]);
    report.pendingFrame = null;
    return true;
  }
  return false;
}

function enterSection(report: OpenReport, section: Section): void {
  report.section = section;
  report.pendingFrame = null;
}

function accessFrom(match: RegExpExecArray, stack: Stack): Access {
  const verb = match[1]!;
  return {
    op: verb.endsWith('ead') ? 'read' : 'write',
    previous: verb.startsWith('Previous'),
    goroutine: match[3] === undefined ? 'main' : Number(match[3]),
    address: match[2] ?? null,
    stack,
  };
}

export type GoRaceEvent = { type: 'report'; report: GoRaceReport } | { type: 'abandoned'; abandoned: AbandonedReport };

/** Convenience for whole inputs (tests, small files): every event the lines produce, in order. */
export function parseGoRaceLines(lines: Iterable<ReportLine>, options?: ParserOptions): GoRaceEvent[] {
  const parser = createGoRaceParser(options);
  const events: ParserEvent[] = [];
  for (const line of lines) events.push(...parser.push(line));
  events.push(...parser.end());
  // This parser makes Go race reports only.
  return events as GoRaceEvent[];
}
