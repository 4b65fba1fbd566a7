import { resolve as resolvePath } from 'node:path';
import { gitlabConnectionFrom } from '../config/gitlab.js';
import { ConfigError, loadSettings, type Settings, type SettingOverrides } from '../config/settings.js';
import { createLogger, type Logger } from '../log/logger.js';
import { RaceExtractor, type ExtractEvent } from '../pipeline/extract.js';
import { describeDelivery } from '../sink/gitlab/report.js';
import { writeOut } from '../sink/output.js';
import { checkpointFile, loadPositions, savePositions, type Checkpoint } from '../state/checkpoints.js';
import { lockState } from '../state/sink-state.js';
import { expandPaths, InputError } from '../source/expand.js';
import { inodesOf, rotatedGenerations, worthOpening } from '../source/generations.js';
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
    const saved = await loadPositions(positions);
    const listedAt = Date.now();
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
    const savedInodes = inodesOf(saved.files);
    const listedPaths = new Set(files.map((f) => resolvePath(f.path)));
    const generations = rotatedGenerations(specs, saved.listedAt).filter((g) => worthOpening(g, savedInodes) && !listedPaths.has(resolvePath(g.path)));
    const rotated = await identifyGenerations(
      generations.map((g) => g.path),
      log,
    );
    const born = new Set(generations.filter((g) => g.born).map((g) => g.path));
    const { next, unclaimed } = await sweepFiles(identities, rotated, born, saved.files, settings, handle, log, totals);
    await sink.finish();
    const untouched = unclaimed.filter((c) => !next.some((n) => n.path === c.path));
    if (persist) await savePositions(positions, { files: keepRecent([...next, ...untouched]), listedAt });
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

/** Rotated generations are deleted and compressed as logrotate sees fit: one gone meanwhile is no error. */
async function identifyGenerations(paths: string[], log: Logger): Promise<FileIdentity[]> {
  const identities: FileIdentity[] = [];
  for (const path of paths) {
    try {
      identities.push(await identify(path));
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      log.debug({ source: path }, `${error.message}; a rotated generation, skipped`);
    }
  }
  return identities;
}

/**
 * Each file from its own checkpoint (see CheckpointClaims). A file renamed by rotation whose report is
 * still open at its end offers it to the new file now at its old path, read right after it, so that a
 * report split across the rotation is filed once, whole, as the daemon files it. `rotated`: generations
 * of single-file paths (generations.ts), read only when born since the last sweep (`born`) or when one of
 * them is the file a checkpoint was saved for.
 */
async function sweepFiles(
  listed: FileIdentity[],
  rotated: FileIdentity[],
  born: ReadonlySet<string>,
  saved: Checkpoint[],
  settings: Settings,
  handle: (event: ExtractEvent) => Promise<void>,
  log: Logger,
  totals: RunTotals,
): Promise<{ next: Checkpoint[]; unclaimed: Checkpoint[] }> {
  const claimed = new CheckpointClaims(saved);
  const checkpoints = claimed.claimAll([...listed, ...rotated]);
  const identities = [...listed, ...rotated.filter((identity) => born.has(identity.path) || checkpoints.get(identity))];
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
    const [renamed, current] = opened.length === 2 ? opened : [null, opened[0]];
    if (current) next.push(await finishSwept(current, settings, handle, totals, null));
    if (renamed) next.push(await finishSwept(renamed, settings, handle, totals, current!));
  }
  return { next, unclaimed: claimed.unclaimed };
}

/**
 * The files in the order they are read, in groups: a file whose checkpoint has another path than it has
 * now (renamed by rotation) with the new file now at that path, else one file alone. The new file has no
 * checkpoint yet, or one saved at its own path while the renamed file's report still continued in it.
 */
function lineages(identities: FileIdentity[], checkpoints: Map<FileIdentity, Checkpoint | null>): FileIdentity[][] {
  const successorOf = new Map<FileIdentity, FileIdentity>();
  const predecessorOf = new Map<FileIdentity, FileIdentity>();
  const atOwnPath = (other: FileIdentity) => (checkpoints.get(other)?.path ?? other.path) === other.path;
  for (const identity of identities) {
    const saved = checkpoints.get(identity);
    if (!saved || saved.path === identity.path) continue;
    const successor = identities.find((other) => other !== identity && other.path === saved.path && atOwnPath(other) && !predecessorOf.has(other));
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

/**
 * The checkpoint a swept file leaves. A renamed file whose open report continues in `successor` (the new
 * file at its old path) keeps its old path in it until that report is settled, so that the next sweep
 * pairs the two again; it is filed cut off only once both files went quiet.
 */
async function finishSwept(
  { identity, read, extractor }: SweptFile,
  settings: Settings,
  handle: (event: ExtractEvent) => Promise<void>,
  totals: RunTotals,
  successor: SweptFile | null,
): Promise<Checkpoint> {
  const quiet = (file: FileIdentity) => Date.now() - file.mtimeMs >= settings.reportTimeout;
  const continues = successor !== null && extractor.continuesInNextFile;
  // A report still open at the end of a file nobody writes to any more will never be finished.
  const finished = continues ? quiet(identity) && quiet(successor.identity) : quiet(identity) || identity.gzip;
  if (finished) for (const event of extractor.end()) await handle(event);
  totals.files += 1;
  totals.bytes += extractor.bytesRead - read.resume.offset;
  const checkpoint = await captureCheckpoint(identity, extractor.resumePoint, contentOfPath(identity));
  return extractor.continuesInNextFile && successor ? { ...checkpoint, path: successor.identity.path } : checkpoint;
}

function keepRecent(checkpoints: Checkpoint[]): Checkpoint[] {
  const oldest = Date.now() - CHECKPOINT_KEPT_MS;
  return checkpoints.filter((c) => Date.parse(c.updatedAt) >= oldest);
}
