import type { ReportFacts } from '../../parsers/format.js';
import type { ParsedReport } from '../../parsers/report.js';
import type { BugIdentity } from '../fingerprint/fingerprint.js';

/** One race report seen in one place: what flows from the parser to the sinks, whatever its format. */
export interface RaceOccurrence {
  /** Deterministic: the same report in the same bytes gets the same id on every scan. */
  id: string;
  fingerprint: string;
  title: string;
  /** The normalized frames each side contributed to the fingerprint. */
  sides: string[][];
  /** The report's completeness, the keys earlier releases gave it, and the keys of its sides. */
  identity: BugIdentity;
  /** What an issue shows besides the report's text (parsers/format.ts). */
  facts: ReportFacts;
  /** What `--json` prints of the report besides what every format has. */
  details: Record<string, unknown>;
  source: string;
  line: number;
  offset: number;
  truncated: boolean;
  text: string;
  /** The report as its format parsed it: `report.format` and `report.kind` name what it is. */
  report: ParsedReport;
}
