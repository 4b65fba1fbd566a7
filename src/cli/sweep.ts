import { gitlabConnectionFrom } from '../config/gitlab.js';
import { ConfigError, loadSettings, type Settings, type SettingOverrides } from '../config/settings.js';
import { createLogger, type Logger } from '../log/logger.js';
import { RaceExtractor, type ExtractEvent } from '../pipeline/extract.js';
import { describeDelivery } from '../sink/gitlab/report.js';
import { writeOut } from '../sink/output.js';
import { checkpointFile, checkpointOf, findCheckpoint, loadCheckpoints, MARK_BYTES, saveCheckpoints, type Checkpoint } from '../state/checkpoints.js';
import { lockState } from '../state/sink-state.js';
import { expandPaths, InputError } from '../source/expand.js';
import { identify, readRange, type FileIdentity } from '../source/identity.js';
import { gunzippedRange, openFrom } from '../source/resume-read.js';
import { EXIT } from './exit-codes.js';
import { emptyTotals, eventHandler, extractOptions, openSinks, stateDirOf, type CommandIo, type RunTotals } from './wiring.js';

export interface SweepFlags extends SettingOverrides {
  json?: boolean;
  dryRun?: boolean;
  exitCode?: boolean;
  config?: string;
}

// A checkpoint of a file not seen for this long is forgotten.
const CHECKPOINT_KEPT_MS = 30 * 24 * 3600 * 1000;

/**
 * Scans the configured logs once, each from where the previous sweep stopped, and exits (cron, systemd
 * timers). A dry run reads the saved positions but never moves them.
 */
export async function runSweep(paths: string[], flags: SweepFlags, io: CommandIo): Promise<number> {
  const { json, dryRun, exitCode, config, ...overrides } = flags;
  const settings = loadSettings(io.env, overrides, config ?? io.env.RACEWATCH_CONFIG);
  const specs = paths.length > 0 ? paths : settings.paths;
  if (specs.length === 0) throw new ConfigError('nothing to sweep: name paths on the command line or set RACEWATCH_PATHS');
  const log = createLogger(settings.logLevel, io.stderr);
  const connection = dryRun ? null : gitlabConnectionFrom(settings, io.env);
  const persist = connection !== null;
  const positions = checkpointFile(stateDirOf(settings, io.env));
  const unlock = persist ? await lockState(positions) : async () => {};
  try {
    const saved = await loadCheckpoints(positions);
    const { files, errors, skipped } = await expandPaths(specs);
    for (const error of errors) log.error({ source: error.source }, error.message);
    for (const notice of skipped) log.warn({ source: notice.source }, notice.message);
    const { sink, gitlab } = await openSinks(json === true, connection, settings, io, log);
    const totals = emptyTotals();
    totals.failedFiles = errors.length;
    const handle = eventHandler(sink, log, totals);
    const identities = await identifyAll(
      files.map((f) => f.path),
      log,
      totals,
    );
    const { next, unclaimed } = await sweepFiles(identities, saved, settings, handle, log, totals);
    await sink.finish();
    const untouched = unclaimed.filter((c) => !next.some((n) => n.path === c.path));
    if (persist) await saveCheckpoints(positions, keepRecent([...next, ...untouched]));
    log.info(totals, 'sweep finished');
    if (gitlab && connection && !json) await writeOut(io.stdout, describeDelivery(gitlab.summary, connection.project, settings.maxNewIssues));
    if (totals.failedFiles > 0) return EXIT.inputError;
    if (gitlab?.summary.failure) return EXIT.deliveryIncomplete;
    return exitCode && totals.reports > 0 ? EXIT.racesFound : EXIT.ok;
  } finally {
    await unlock();
  }
}

async function identifyAll(paths: string[], log: Logger, totals: RunTotals): Promise<FileIdentity[]> {
  const identities: FileIdentity[] = [];
  for (const path of paths.filter((p) => p !== '-')) {
    try {
      identities.push(await identify(path));
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      log.error({ source: error.source }, error.message);
      totals.failedFiles += 1;
    }
  }
  return identities;
}

/** Files that keep their inode claim their checkpoint first, so a rotated copy cannot take it from them. */
async function sweepFiles(
  identities: FileIdentity[],
  saved: Checkpoint[],
  settings: Settings,
  handle: (event: ExtractEvent) => Promise<void>,
  log: Logger,
  totals: RunTotals,
): Promise<{ next: Checkpoint[]; unclaimed: Checkpoint[] }> {
  const unclaimed = [...saved];
  const claims = new Map<FileIdentity, Checkpoint | null>();
  const claim = (identity: FileIdentity, match: Checkpoint | null) => {
    claims.set(identity, match);
    if (match) unclaimed.splice(unclaimed.indexOf(match), 1);
  };
  for (const identity of identities) {
    const match = findCheckpoint(unclaimed, identity);
    if (match && match.dev === identity.dev && match.ino === identity.ino) claim(identity, match);
  }
  for (const identity of identities) if (!claims.has(identity)) claim(identity, findCheckpoint(unclaimed, identity));

  const startAtEnd = settings.startAt === 'end' && saved.length === 0;
  const next: Checkpoint[] = [];
  for (const identity of identities) {
    try {
      next.push(await sweepFile(identity, claims.get(identity) ?? null, startAtEnd, settings, handle, log, totals));
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      log.error({ source: error.source }, `${error.message}; reports found before this point were kept`);
      totals.failedFiles += 1;
    }
  }
  return { next, unclaimed };
}

async function sweepFile(
  identity: FileIdentity,
  checkpoint: Checkpoint | null,
  startAtEnd: boolean,
  settings: Settings,
  handle: (event: ExtractEvent) => Promise<void>,
  log: Logger,
  totals: RunTotals,
): Promise<Checkpoint> {
  const read = await openFrom(identity, checkpoint, startAtEnd);
  if (read.restartReason) log.warn({ source: identity.path }, `${identity.path}: ${read.restartReason}; reading it from the start`);
  const extractor = new RaceExtractor(identity.path, extractOptions(settings), read.resume);
  for await (const chunk of read.chunks) for (const event of extractor.push(chunk)) await handle(event);
  // A report still open at the end of a file nobody writes to any more will never be finished.
  const quiet = Date.now() - identity.mtimeMs >= settings.reportTimeout;
  if (quiet || identity.gzip) for (const event of extractor.end()) await handle(event);
  totals.files += 1;
  totals.bytes += extractor.bytesRead - read.resume.offset;
  return checkpointAt(identity, extractor.resumePoint);
}

async function checkpointAt(identity: FileIdentity, resume: { offset: number; line: number; head: Buffer }): Promise<Checkpoint> {
  const markStart = Math.max(0, resume.offset - MARK_BYTES);
  const before = identity.gzip
    ? ((await gunzippedRange(identity.path, markStart, resume.offset)) ?? Buffer.alloc(0))
    : await readRange(identity.path, markStart, resume.offset - markStart);
  return checkpointOf(identity, resume, before);
}

function keepRecent(checkpoints: Checkpoint[]): Checkpoint[] {
  const oldest = Date.now() - CHECKPOINT_KEPT_MS;
  return checkpoints.filter((c) => Date.parse(c.updatedAt) >= oldest);
}
