import type { ParsedReport } from './report.js';
import type { ReportFormat } from './format.js';
import { goRace } from './go-race/index.js';

/** Every format racewatch knows, in the order a line is offered to them. Adding a format: its folder, one line here, samples/. */
export const FORMATS: readonly ReportFormat[] = [goRace as unknown as ReportFormat];

export const FORMAT_NAMES: readonly string[] = FORMATS.map((format) => format.name);

/** The formats named (all when none are), or an error naming what is unknown. */
export function selectFormats(names: readonly string[] | undefined): ReportFormat[] {
  if (!names || names.length === 0) return [...FORMATS];
  const unknown = names.filter((name) => !FORMAT_NAMES.includes(name));
  if (unknown.length > 0) throw new Error(`unknown report format ${unknown.map((n) => `"${n}"`).join(', ')} (known: ${FORMAT_NAMES.join(', ')})`);
  return FORMATS.filter((format) => names.includes(format.name));
}

/** The format that parsed a report. */
export function formatOf(report: Pick<ParsedReport, 'format'>): ReportFormat {
  return formatNamed(report.format);
}

export function formatNamed(name: string): ReportFormat {
  const format = FORMATS.find((candidate) => candidate.name === name);
  if (!format) throw new Error(`no format "${name}" in parsers/registry.ts`);
  return format;
}
