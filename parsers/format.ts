import type { Fingerprint, FingerprintOptions } from '../src/fingerprint/fingerprint.js';
import type { ParsedReport, ReportParser } from './report.js';

export interface ParserOptions {
  /** A report that meets this many foreign lines in a row is taken as cut off by other output. */
  maxForeignRun?: number;
  /** Report text beyond this many characters is left out (what was parsed is kept). */
  maxTextChars?: number;
}

/** What an issue shows of a report besides its text. */
export interface ReportFacts {
  /** Each known side's identifying function with its place (`session.(*Store).Put (session.go:28)`). */
  racingFrames: string[];
  /** Where the threads or goroutines of the report were started. */
  creationSites: string[];
}

/**
 * One kind of report racewatch finds in logs: a folder of parsers/ with its grammar, its naming rules and its key,
 * listed in registry.ts. Everything outside parsers/ reads reports through this interface only.
 */
export interface ReportFormat<R extends ParsedReport = ParsedReport> {
  /** As `RACEWATCH_FORMATS` names it, and as reports and `--json` carry it. */
  readonly name: string;
  /**
   * Strings one of which every line that can open a report of this format contains. While no report is open,
   * lines holding none of any enabled format's strings are skipped as bytes, never decoded.
   */
  readonly needles: readonly string[];
  createParser(options: ParserOptions): ReportParser;
  fingerprint(report: R, options: FingerprintOptions): Fingerprint;
  facts(report: R, fingerprint: Fingerprint): ReportFacts;
  /** What `--json` prints of the report besides what every format has. */
  details(report: R): Record<string, unknown>;
  /** The title of a bug whose sides are `sides`, with `pathElements` elements of each import path (to tell two titles apart). */
  title(sides: string[][], pathElements: number): string;
}
