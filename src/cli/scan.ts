import { gitlabConnectionFrom } from '../config/gitlab.js';
import { loadSettings, type SettingOverrides } from '../config/settings.js';
import { createLogger, type Logger } from '../log/logger.js';
import { extractRaces, type ExtractEvent, type ExtractOptions } from '../pipeline/extract.js';
import { describeDelivery } from '../sink/gitlab/report.js';
import { writeOut } from '../sink/output.js';
import { expandPaths, InputError, type SourceFile } from '../source/expand.js';
import { openSource } from '../source/open.js';
import type { Readable } from 'node:stream';
import { EXIT } from './exit-codes.js';
import { createProgress, type Progress } from './progress.js';
import { emptyTotals, eventHandler, extractOptions, openSinks, type CommandIo, type RunTotals } from './wiring.js';

export interface ScanFlags extends SettingOverrides {
  json?: boolean;
  dryRun?: boolean;
  exitCode?: boolean;
  progress?: boolean;
  config?: string;
}

// Below this, a scan ends before a progress line would help anyone.
const PROGRESS_MIN_BYTES = 64 * 1024 * 1024;

export async function runScan(paths: string[], flags: ScanFlags, io: CommandIo): Promise<number> {
  const { json, dryRun, exitCode, progress: wantProgress, config, ...overrides } = flags;
  const settings = loadSettings(io.env, overrides, config ?? io.env.RACEWATCH_CONFIG);
  const log = createLogger(settings.logLevel, io.stderr);
  const connection = dryRun ? null : gitlabConnectionFrom(settings, io.env);
  const { files, errors, skipped } = await expandPaths(paths);
  for (const error of errors) log.error({ source: error.source }, error.message);
  for (const notice of skipped) log.warn({ source: notice.source }, notice.message);

  const { sink, gitlab } = await openSinks(json === true, connection, settings, io, log);
  const totals = emptyTotals();
  totals.failedFiles = errors.length;
  const handle = eventHandler(sink, log, totals);
  const progress = chooseProgress(files, wantProgress, io.stderr);
  let bytesBefore = 0;
  for (const file of files) {
    const done = await scanFile(file, io.stdin, extractOptions(settings), handle, log, totals, (bytes) => progress?.update(bytesBefore + bytes, file.path));
    if (done === null) totals.failedFiles += 1;
    else bytesBefore += done;
  }
  progress?.done();
  await sink.finish();
  log.info(totals, 'scan finished');
  if (gitlab && connection && !json) await writeOut(io.stdout, describeDelivery(gitlab.summary, connection.project, settings.maxNewIssues));
  if (totals.failedFiles > 0) return EXIT.inputError;
  if (gitlab?.summary.failure) return EXIT.deliveryIncomplete;
  return exitCode && totals.reports > 0 ? EXIT.racesFound : EXIT.ok;
}

function chooseProgress(files: SourceFile[], wanted: boolean | undefined, stderr: CommandIo['stderr']): Progress | null {
  const total = files.reduce((sum, file) => sum + (file.size ?? 0), 0);
  const show = wanted ?? (stderr.isTTY === true && total >= PROGRESS_MIN_BYTES);
  return show ? createProgress(stderr, total) : null;
}

/** Scans one file; returns the bytes it took from disk, or null when the file could not be read to its end. */
async function scanFile(
  file: SourceFile,
  stdin: Readable,
  options: ExtractOptions,
  handle: (event: ExtractEvent) => Promise<void>,
  log: Logger,
  totals: RunTotals,
  onProgress: (bytesFromDisk: number) => void,
): Promise<number | null> {
  try {
    const opened = await openSource(file, stdin);
    const events = extractRaces(file.path, opened.chunks, options);
    let next = await events.next();
    while (!next.done) {
      await handle(next.value);
      if (next.value.type === 'progress') onProgress(opened.bytesFromDisk());
      next = await events.next();
    }
    totals.files += 1;
    totals.bytes += opened.bytesFromDisk();
    log.debug({ source: file.path, ...next.value }, 'file scanned');
    return opened.bytesFromDisk();
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    log.error({ source: error.source }, `${error.message}; reports found before this point were kept`);
    return null;
  }
}
