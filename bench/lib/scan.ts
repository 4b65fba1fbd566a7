// Scan throughput and peak RSS of `racewatch scan --json`, each against grep and cat on the same file in the
// same run, plus the check that the scan found exactly the reports that were inserted.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { GeneratedLog } from './generate.js';
import { cleanEnv, median, runTimed, type TimedRun } from './proc.js';
import type { SampleReport } from './reports.js';

export const MARKER = 'WARNING: DATA RACE';

export interface ScanResult {
  log: GeneratedLog;
  /** Medians over the timed repetitions, in ms. */
  scanMs: number;
  grepMs: number;
  catMs: number;
  /** Peak RSS over every scan of this file (the timed ones and the checking one), KiB. */
  scanMaxRssKiB: number;
  runs: { scan: number[]; grep: number[]; cat: number[]; scanRssKiB: number[] };
  reportsFound: number;
}

export class BenchFailure extends Error {}

function mustSucceed(run: TimedRun): TimedRun {
  if (run.code !== 0 || run.signal !== null) {
    throw new BenchFailure(`\`${run.command}\` failed (${run.signal ?? `exit ${run.code}`}):\n${run.stderr.slice(-4000)}`);
  }
  return run;
}

export interface ScanOptions {
  cli: string;
  workDir: string;
  repetitions: number;
  reports: SampleReport[];
  progress: (text: string) => void;
}

/** What racewatch finds in each sample block alone: the fingerprint the big logs must show for it. */
export async function fingerprintSampleReports(opts: { cli: string; workDir: string; reports: SampleReport[] }): Promise<void> {
  const file = path.join(opts.workDir, 'sample-blocks.log');
  writeFileSync(file, opts.reports.map((r) => `${r.lines.join('\n')}\n`).join('bench: between two reports\n'));
  const run = mustSucceed(await runTimed(process.execPath, [opts.cli, 'scan', '--json', file], { stdout: 'capture' }));
  const found = run.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { fingerprint: string; title: string; truncated: boolean });
  if (found.length !== opts.reports.length || found.some((o) => o.truncated)) {
    throw new BenchFailure(
      `the ${opts.reports.length} sample blocks scanned alone gave ${found.length} report(s) (${found.filter((o) => o.truncated).length} truncated)`,
    );
  }
  found.forEach((o, i) => {
    opts.reports[i]!.fingerprint = o.fingerprint;
    opts.reports[i]!.title = o.title;
  });
}

interface JsonOccurrence {
  id: string;
  fingerprint: string;
  source: string;
  line: number;
  offset: number;
  truncated: boolean;
}

/** Fails the bench unless the scan output is exactly the inserted reports, in order, where they were put. */
function checkOccurrences(log: GeneratedLog, reports: SampleReport[], ndjson: string): number {
  const found = ndjson
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as JsonOccurrence);
  const problems: string[] = [];
  if (found.length !== log.inserted.length) problems.push(`found ${found.length} report(s), ${log.inserted.length} were inserted`);
  log.inserted.forEach((want, i) => {
    const got = found[i];
    if (!got) return;
    const sample = reports[want.report]!;
    const where = `report ${i + 1} (${sample.origin})`;
    if (got.line !== want.line || got.offset !== want.offset)
      problems.push(`${where}: at line ${got.line} offset ${got.offset}, inserted at line ${want.line} offset ${want.offset}`);
    if (got.fingerprint !== sample.fingerprint) problems.push(`${where}: fingerprint ${got.fingerprint}, expected ${sample.fingerprint}`);
    if (got.truncated) problems.push(`${where}: flagged truncated`);
  });
  if (new Set(found.map((o) => o.id)).size !== found.length) problems.push('occurrence ids are not unique');
  if (problems.length > 0) throw new BenchFailure(`scan of ${log.path} is wrong:\n  ${problems.slice(0, 20).join('\n  ')}`);
  return found.length;
}

export async function benchScan(log: GeneratedLog, opts: ScanOptions): Promise<ScanResult> {
  const name = path.basename(log.path);
  const scanArgs = [opts.cli, 'scan', '--json', log.path];
  // Warm the page cache.
  mustSucceed(await runTimed('cat', [log.path], { stdout: 'null' }));

  // The baseline counts the markers too: a cheap cross-check of the generator.
  opts.progress(`${name}: checking run`);
  const grepCheck = mustSucceed(await runTimed('grep', ['-c', '-F', MARKER, log.path], { stdout: 'capture' }));
  if (Number(grepCheck.stdout.trim()) !== log.inserted.length) {
    throw new BenchFailure(`grep counts ${grepCheck.stdout.trim()} markers in ${log.path}, ${log.inserted.length} reports were inserted`);
  }
  const checkFile = path.join(opts.workDir, `${name}.ndjson`);
  const check = mustSucceed(await runTimed(process.execPath, scanArgs, { stdout: { file: checkFile }, env: cleanEnv() }));
  const reportsFound = checkOccurrences(log, opts.reports, readFileSync(checkFile, 'utf8'));

  const runs = { scan: [] as number[], grep: [] as number[], cat: [] as number[], scanRssKiB: [check.maxRssKiB] };
  for (let rep = 1; rep <= opts.repetitions; rep += 1) {
    opts.progress(`${name}: timed run ${rep}/${opts.repetitions}`);
    const scan = mustSucceed(await runTimed(process.execPath, scanArgs, { stdout: 'null', env: cleanEnv() }));
    runs.scan.push(scan.wallMs);
    runs.scanRssKiB.push(scan.maxRssKiB);
    runs.grep.push(mustSucceed(await runTimed('grep', ['-c', '-F', MARKER, log.path], { stdout: 'capture' })).wallMs);
    runs.cat.push(mustSucceed(await runTimed('cat', [log.path], { stdout: 'null' })).wallMs);
  }
  return {
    log,
    scanMs: median(runs.scan),
    grepMs: median(runs.grep),
    catMs: median(runs.cat),
    scanMaxRssKiB: Math.max(...runs.scanRssKiB),
    runs,
    reportsFound,
  };
}

/** What a scan costs with nothing to read: process start-up, module loading, setup (median ms, peak RSS KiB). */
export async function benchStartup(opts: { cli: string; workDir: string; repetitions: number }): Promise<{ ms: number; maxRssKiB: number }> {
  const empty = path.join(opts.workDir, 'empty.log');
  writeFileSync(empty, '');
  const runs: TimedRun[] = [];
  for (let rep = 0; rep < opts.repetitions; rep += 1)
    runs.push(mustSucceed(await runTimed(process.execPath, [opts.cli, 'scan', '--json', empty], { stdout: 'null', env: cleanEnv() })));
  return { ms: median(runs.map((r) => r.wallMs)), maxRssKiB: Math.max(...runs.map((r) => r.maxRssKiB)) };
}
