// The real race reports the bench inserts into its generated logs, cut out of samples/logs/*.log.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const SEPARATOR = '==================';
const MARKER = 'WARNING: DATA RACE';

export interface SampleReport {
  /** Where it was cut from, e.g. `soakd-build-a1.log#2`. */
  origin: string;
  /** Every line of the block, from the opening `==================` to the closing one, without newlines. */
  lines: string[];
  /** Filled in by the bench from a scan of the blocks alone: what racewatch must find for this block. */
  fingerprint?: string;
  title?: string;
}

/**
 * Every complete block of the real (not `.derived.`) sample logs: a `==================` line followed by
 * `WARNING: DATA RACE`, up to the next `==================` line. Blocks with no closing line are skipped.
 */
export function extractSampleReports(samplesLogDir: string): SampleReport[] {
  const files = readdirSync(samplesLogDir)
    .filter((name) => name.endsWith('.log') && !name.includes('.derived.'))
    .sort();
  const reports: SampleReport[] = [];
  for (const name of files) {
    const lines = readFileSync(path.join(samplesLogDir, name), 'utf8').split('\n');
    let count = 0;
    for (let i = 0; i + 1 < lines.length; i += 1) {
      if (lines[i] !== SEPARATOR || lines[i + 1] !== MARKER) continue;
      const end = lines.indexOf(SEPARATOR, i + 2);
      if (end < 0) break;
      count += 1;
      reports.push({ origin: `${name}#${count}`, lines: lines.slice(i, end + 1) });
      i = end;
    }
  }
  return reports;
}
