import type { ParsedReport } from '../../parsers/report.js';

/** One race report seen in one place: what flows from the parser to the sinks. */
export interface RaceOccurrence {
  /** Deterministic: the same report in the same bytes gets the same id on every scan. */
  id: string;
  fingerprint: string;
  title: string;
  /** The normalized frames each access contributed to the fingerprint. */
  sides: string[][];
  source: string;
  line: number;
  offset: number;
  truncated: boolean;
  text: string;
  report: ParsedReport;
}
