import type { ParsedReport } from '../../parsers/report.js';
import type { BugIdentity } from '../fingerprint/fingerprint.js';

/** One race report seen in one place: what flows from the parser to the sinks. */
export interface RaceOccurrence {
  /** Deterministic: the same report in the same bytes gets the same id on every scan. */
  id: string;
  fingerprint: string;
  title: string;
  /** The normalized frames each access contributed to the fingerprint. */
  sides: string[][];
  /** The report's kind, the keys earlier releases gave it, and the keys of its sides. */
  identity: BugIdentity;
  source: string;
  line: number;
  offset: number;
  truncated: boolean;
  text: string;
  report: ParsedReport;
}
