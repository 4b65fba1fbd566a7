/** The report model every format in parsers/ produces; nothing here knows where lines came from or which format it is. */

/** One log line after its wrapper (syslog prefix, JSON envelope, ...) was removed. */
export interface ReportLine {
  text: string;
  /** 1-based line number in the source. */
  line: number;
  /** Byte offset of the start of the line in the source. */
  offset: number;
}

/** What every report has, whatever its format; each format adds what its grammar parsed (parsers/<format>/model.ts). */
export interface ParsedReport {
  /** The name of the format in parsers/registry.ts that parsed it. */
  format: string;
  /** What the report says happened, in the format's words (`data-race`, `lock-order-inversion`, ...). */
  kind: string;
  /** The report's lines with wrappers removed, foreign lines left out. */
  text: string;
  markerLine: number;
  markerOffset: number;
  /** The report's end never came: the writer died, the file was cut, or foreign output took over. */
  truncated: boolean;
}

/** Something that looked like the start of a report but could not be one; counted, never silent. */
export interface AbandonedReport {
  line: number;
  offset: number;
  reason: string;
}

export type ParserEvent = { type: 'report'; report: ParsedReport } | { type: 'abandoned'; abandoned: AbandonedReport };

/** An incremental parser: a pure function of the lines pushed so far, fed one line at a time. */
export interface ReportParser {
  /** True while no report is open, so lines without a marker can be skipped unread. */
  readonly idle: boolean;
  /** Where the open report's marker line is, so a reader can resume there after a restart. */
  readonly openAt: { line: number; offset: number } | null;
  /** How many lines of its grammar the open report has taken (0 when idle); blank lines do not count. */
  readonly progress: number;
  /** An independent copy in the same state: a report that may go on in either of two files is followed in both. */
  fork(): ReportParser;
  push(line: ReportLine): ParserEvent[];
  /** The input ended (or went quiet): close whatever is open. */
  end(): ParserEvent[];
}
