import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { asGoRaceReport } from '../../parsers/go-race/model.js';
import { extractOptions } from '../../src/cli/wiring.js';
import { loadSettings } from '../../src/config/settings.js';
import type { ExtractOptions } from '../../src/pipeline/extract.js';
import { extractAll, SAMPLES_DIR } from './samples.js';

/**
 * Golden files: what the real extraction path finds in every sample log, pinned in
 * `samples/expected/<path under logs/>.json`. test/golden.test.ts compares them, `npm run golden:update`
 * (test/support/update-golden.ts) rewrites them.
 */
export const LOGS_DIR = path.join(SAMPLES_DIR, 'logs');
export const EXPECTED_DIR = path.join(SAMPLES_DIR, 'expected');
export const UPDATE_COMMAND = 'npm run golden:update';

export interface GoldenAccess {
  op: 'read' | 'write';
  previous: boolean;
}

export interface GoldenReport {
  line: number;
  truncated: boolean;
  title: string;
  fingerprint: string;
  kind: string;
  /** The keys earlier releases gave the report (gorace-v1), which still find what they filed. */
  lineage: string[];
  /** For a report without frames: the earlier key it shared with other bugs, only read to learn what was filed. */
  formerShared?: string[];
  sides: string[][];
  /** Go race reports only. */
  accesses?: GoldenAccess[];
}

export interface Golden {
  /** The log's path under samples/logs, with `/` separators. */
  log: string;
  reports: GoldenReport[];
}

/**
 * The options `racewatch scan` runs with when nothing is configured: the CLI's own settings defaults,
 * read with an empty environment and no config file so that the developer's RACEWATCH_* variables do not leak in.
 */
export function cliDefaultExtractOptions(): ExtractOptions {
  return extractOptions(loadSettings({}, {}, undefined));
}

const toPosix = (relative: string): string => relative.split(path.sep).join('/');

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => toPosix(path.relative(dir, path.join(entry.parentPath, entry.name))))
    .sort();
}

/** Every sample log (gzip and the gorace-log-path folder included), as paths under samples/logs. */
export function sampleLogs(): string[] {
  return filesUnder(LOGS_DIR);
}

/** The golden files that exist, as the log paths they claim to pin (`x.log.json` pins `x.log`). */
export function goldenLogs(): string[] {
  return filesUnder(EXPECTED_DIR)
    .filter((file) => file.endsWith('.json'))
    .map((file) => file.slice(0, -'.json'.length));
}

export function goldenPathOf(log: string): string {
  return path.join(EXPECTED_DIR, `${log}.json`);
}

/** Runs the log through openSource and extractRaces exactly as `racewatch scan` does. */
export async function computeGolden(log: string, options: ExtractOptions = cliDefaultExtractOptions()): Promise<Golden> {
  const events = await extractAll(path.join(LOGS_DIR, log), options);
  const reports = events.flatMap((event): GoldenReport[] => {
    if (event.type !== 'race') return [];
    const occurrence = event.occurrence;
    // Built key by key so that the JSON has the same key order whatever the occurrence object looks like.
    return [
      {
        line: occurrence.line,
        truncated: occurrence.truncated,
        title: occurrence.title,
        fingerprint: occurrence.fingerprint,
        kind: occurrence.identity.kind,
        lineage: [...occurrence.identity.lineage],
        ...(occurrence.identity.formerShared.length > 0 ? { formerShared: [...occurrence.identity.formerShared] } : {}),
        sides: occurrence.sides.map((side) => [...side]),
        ...(occurrence.report.format === 'go-race'
          ? { accesses: asGoRaceReport(occurrence.report).accesses.map((access) => ({ op: access.op, previous: access.previous })) }
          : {}),
      },
    ];
  });
  return { log, reports };
}

/** Stable text: 2-space indent, keys in the order computeGolden builds them, trailing newline. */
export function serializeGolden(golden: Golden): string {
  return `${JSON.stringify(golden, null, 2)}\n`;
}

export function readGoldenText(log: string): string | null {
  const file = goldenPathOf(log);
  return existsSync(file) ? readFileSync(file, 'utf8') : null;
}
