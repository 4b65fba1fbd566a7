import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { extractRaces, type ExtractEvent, type ExtractOptions } from '../../src/pipeline/extract.js';
import type { RaceOccurrence } from '../../src/pipeline/occurrence.js';
import { DEFAULT_FINGERPRINT_OPTIONS } from '../../src/fingerprint/fingerprint.js';
import { openSource } from '../../src/source/open.js';

export const SAMPLES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../samples');

export interface SampleEntry {
  file: string;
  program: string | null;
  derivedFrom: string | null;
  /** The Go release that printed the log (a derived file: its source's), e.g. `go1.19.8`. */
  goVersion: string;
  reports: number;
  truncated: number;
  bugs: string[];
  racingFunctions: [string, string][];
  notes: string;
}

export function loadManifest(): SampleEntry[] {
  const manifest = JSON.parse(readFileSync(path.join(SAMPLES_DIR, 'manifest.json'), 'utf8')) as { samples: SampleEntry[] };
  return manifest.samples;
}

export const DEFAULT_EXTRACT: ExtractOptions = { maxLineBytes: 1024 * 1024, fingerprint: DEFAULT_FINGERPRINT_OPTIONS };

export async function extractAll(file: string, options: ExtractOptions = DEFAULT_EXTRACT): Promise<ExtractEvent[]> {
  const absolute = path.isAbsolute(file) ? file : path.join(SAMPLES_DIR, file);
  const opened = await openSource({ path: absolute, size: null });
  const events: ExtractEvent[] = [];
  for await (const event of extractRaces(file, opened.chunks, options)) events.push(event);
  return events;
}

export async function occurrencesOf(file: string, options?: ExtractOptions): Promise<RaceOccurrence[]> {
  return (await extractAll(file, options)).flatMap((event) => (event.type === 'race' ? [event.occurrence] : []));
}

export async function* chunksOf(text: string | Buffer): AsyncGenerator<Buffer> {
  yield Buffer.isBuffer(text) ? text : Buffer.from(text);
}

export const CLOSING_LINE = '==================';

/** The 9 reports of a real soak log (samples/logs/soakd-restarts.log), each from its opening separator to its closing one. */
export function soakReportTexts(): string[] {
  const lines = readFileSync(path.join(SAMPLES_DIR, 'logs/soakd-restarts.log'), 'utf8').split('\n');
  const texts = lines.flatMap((line, i) => {
    if (line !== 'WARNING: DATA RACE') return [];
    const end = lines.indexOf(CLOSING_LINE, i);
    return [`${lines.slice(i - 1, end + 1).join('\n')}\n`];
  });
  if (texts.length !== 9) throw new Error(`soakd-restarts.log: found ${texts.length} reports, want 9`);
  return texts;
}

/** The occurrences racewatch reads in `text`, as if it were the log `source` (for reports a test varied). */
export async function occurrencesInText(source: string, text: string, options: ExtractOptions = DEFAULT_EXTRACT): Promise<RaceOccurrence[]> {
  const occurrences: RaceOccurrence[] = [];
  for await (const event of extractRaces(source, chunksOf(text), options)) if (event.type === 'race') occurrences.push(event.occurrence);
  return occurrences;
}
