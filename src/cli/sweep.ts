import { gitlabConnectionFrom } from '../config/gitlab.js';
import { ConfigError, loadSettings, type Settings, type SettingOverrides } from '../config/settings.js';
import { createLogger, type Logger } from '../log/logger.js';
import { RaceExtractor, type ExtractEvent } from '../pipeline/extract.js';
import { describeDelivery } from '../sink/gitlab/report.js';
import { writeOut } from '../sink/output.js';
import { checkpointFile, loadCheckpoints, saveCheckpoints, type Checkpoint } from '../state/checkpoints.js';
import { lockState } from '../state/sink-state.js';
import { expandPaths, InputError } from '../source/expand.js';
import { identify, type FileIdentity } from '../source/identity.js';
import { captureCheckpoint, CheckpointClaims, contentOfPath, openFrom, type ResumedRead } from '../source/resume.js';
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

/**
 * Each file from its own checkpoint (see CheckpointClaims). A file renamed by rotation whose report is
 * still open at its end offers it to the new file now at its old path, read right after it, so that a
 * report split across the rotation is filed once, whole, as the daemon files it.
 */
async function sweepFiles(
  identities: FileIdentity[],
  saved: Checkpoint[],
  settings: Settings,
  handle: (event: ExtractEvent) => Promise<void>,
  log: Logger,
  totals: RunTotals,
): Promise<{ next: Checkpoint[]; unclaimed: Checkpoint[] }> {
  const claimed = new CheckpointClaims(saved);
  const checkpoints = claimed.claimAll(identities);
  const whenNew = settings.startAt === 'end' && saved.length === 0 ? 'end' : 'start';
  const next: Checkpoint[] = [];
  for (const lineage of lineages(identities, checkpoints)) {
    const opened: SweptFile[] = [];
    for (const identity of lineage) {
      try {
        const file = await openSwept(identity, checkpoints.get(identity) ?? null, whenNew, settings, log);
        // Offered before the new file's first byte: whichever file goes on with the report keeps it.
        opened.at(-1)?.extractor.offerOpenReportTo(file.extractor);
        for await (const chunk of file.read.chunks) for (const event of file.extractor.push(chunk)) await handle(event);
        opened.push(file);
      } catch (error) {
        if (!(error instanceof InputError)) throw error;
        log.error({ source: error.source }, `${error.message}; reports found before this point were kept`);
        totals.failedFiles += 1;
      }
    }
    // The new file first: the renamed one is only done with a report it offered once the new one has decided.
    for (const file of opened.reverse()) next.push(await finishSwept(file, settings, handle, totals));
  }
  return { next, unclaimed: claimed.unclaimed };
}

/**
 * The files in the order they are read, in groups: a file whose checkpoint has another path than it has
 * now (renamed by rotation) with the new file (no checkpoint) now at that path, else one file alone.
 */
function lineages(identities: FileIdentity[], checkpoints: Map<FileIdentity, Checkpoint | null>): FileIdentity[][] {
  const successorOf = new Map<FileIdentity, FileIdentity>();
  const predecessorOf = new Map<FileIdentity, FileIdentity>();
  for (const identity of identities) {
    const saved = checkpoints.get(identity);
    if (!saved || saved.path === identity.path) continue;
    const successor = identities.find((other) => other.path === saved.path && !checkpoints.get(other) && !predecessorOf.has(other));
    if (!successor) continue;
    successorOf.set(identity, successor);
    predecessorOf.set(successor, identity);
  }
  const groups: FileIdentity[][] = [];
  for (const identity of identities) {
    if (successorOf.has(identity)) continue;
    const predecessor = predecessorOf.get(identity);
    groups.push(predecessor ? [predecessor, identity] : [identity]);
  }
  return groups;
}

interface SweptFile {
  identity: FileIdentity;
  read: ResumedRead;
  extractor: RaceExtractor;
}

async function openSwept(identity: FileIdentity, checkpoint: Checkpoint | null, whenNew: 'start' | 'end', settings: Settings, log: Logger): Promise<SweptFile> {
  const read = await openFrom(identity, checkpoint, whenNew);
  if (read.restartReason) log.warn({ source: identity.path }, `${identity.path}: ${read.restartReason}; reading it from the start`);
  return { identity, read, extractor: new RaceExtractor(identity.path, extractOptions(settings), read.resume) };
}

async function finishSwept(
  { identity, read, extractor }: SweptFile,
  settings: Settings,
  handle: (event: ExtractEvent) => Promise<void>,
  totals: RunTotals,
): Promise<Checkpoint> {
  // A report still open at the end of a file nobody writes to any more will never be finished.
  const quiet = Date.now() - identity.mtimeMs >= settings.reportTimeout;
  if (quiet || identity.gzip) for (const event of extractor.end()) await handle(event);
  totals.files += 1;
  totals.bytes += extractor.bytesRead - read.resume.offset;
  return captureCheckpoint(identity, extractor.resumePoint, contentOfPath(identity));
}

function keepRecent(checkpoints: Checkpoint[]): Checkpoint[] {
  const oldest = Date.now() - CHECKPOINT_KEPT_MS;
  return checkpoints.filter((c) => Date.parse(c.updatedAt) >= oldest);
}
