import { schedule, validate } from 'node-cron';
import { gitlabConnectionFrom } from '../config/gitlab.js';
import { ConfigError, type Settings } from '../config/settings.js';
import type { Logger } from '../log/logger.js';
import { checkpointFile, loadPositions, savePositions } from '../state/checkpoints.js';
import { lockState } from '../state/sink-state.js';
import { emptyTotals, eventHandler, extractOptions, openSinks, stateDirOf, type CommandIo } from '../cli/wiring.js';
import { DeliveryLoop } from './delivery.js';
import { Follower } from './follower.js';
import { defaultMaxOpenFiles } from './handle-pool.js';
import { resolveMetricsHost, startMetricsServer } from '../observability/http.js';

export const DAEMON_COMMENT_WINDOW_MS = 3_600_000;
const SHUTDOWN_DELIVERY_MS = 10_000;

export interface RunningDaemon {
  /** Resolves when the daemon has stopped (after a signal or `stop`), with the error that stopped it, if any. */
  done: Promise<Error | null>;
  stop(): Promise<void>;
}

/** Follows the configured logs and files reports as they complete, until stopped. */
export async function startFollowing(settings: Settings, io: CommandIo, log: Logger, dryRun: boolean): Promise<RunningDaemon> {
  if (settings.paths.length === 0) throw new ConfigError('nothing to follow: set RACEWATCH_PATHS (comma-separated files, directories, globs)');
  const connection = dryRun ? null : gitlabConnectionFrom(settings, io.env);
  // A metrics host that is not loopback is refused before anything is locked or read.
  const metricsAddress = settings.metricsPort === undefined ? null : await resolveMetricsHost(settings.metricsHost);
  const persist = connection !== null;
  const positions = checkpointFile(stateDirOf(settings, io.env));
  const unlockPositions = persist ? await lockState(positions) : async () => {};
  // Until the follower is up, a failed step gives back the positions lock before the error goes on.
  const orUnlock = async <T>(action: () => Promise<T>): Promise<T> => {
    try {
      return await action();
    } catch (error) {
      await unlockPositions().catch(() => {});
      throw error;
    }
  };
  const saved = await orUnlock(() => loadPositions(positions));
  const { sink, gitlab } = await orUnlock(() => openSinks(!persist, connection, settings, io, log, DAEMON_COMMENT_WINDOW_MS));
  const maxOpenFiles = settings.maxOpenFiles ?? defaultMaxOpenFiles();
  const totals = emptyTotals();
  const handle = eventHandler(sink, log, totals);
  const delivery = gitlab ? new DeliveryLoop(gitlab, log) : null;
  let metrics: Awaited<ReturnType<typeof startMetricsServer>> | null = null;

  let stopping: Promise<void> | null = null;
  let failure: Error | null = null;
  let release: (failure: Error | null) => void = () => {};
  const done = new Promise<Error | null>((resolve) => (release = resolve));
  // Each step runs whatever the one before did: a disk that is full must not keep the lock held.
  const step = async (what: string, action: () => Promise<unknown> | unknown) => {
    try {
      await action();
    } catch (error) {
      failure ??= error as Error;
      log.error({ error: (error as Error).message }, `while stopping, ${what} failed`);
    }
  };
  const stop = () =>
    (stopping ??= (async () => {
      await step('following', () => follower.stop());
      await step('the metrics server', () => metrics?.server.close());
      await step('delivery', () => delivery?.stop(SHUTDOWN_DELIVERY_MS));
      await step('saving the state', () => (gitlab ? gitlab.close() : sink.finish()));
      await step('releasing the positions lock', unlockPositions);
      log.info({ ...totals, pending: gitlab?.summary.pending ?? 0 }, 'racewatch daemon stopped');
      release(failure);
    })());
  const fail = (error: unknown) => {
    failure ??= error as Error;
    log.error({ error: (error as Error).message }, `racewatch daemon stops: ${(error as Error).message}`);
    return stop();
  };

  const follower = new Follower(
    {
      specs: settings.paths,
      extract: extractOptions(settings),
      mode: settings.watch,
      reconcileMs: settings.reconcileInterval,
      reportTimeoutMs: settings.reportTimeout,
      drainMs: settings.drainTime,
      startAtEnd: settings.startAt === 'end' && saved.files.length === 0,
      maxOpenFiles,
      saved: saved.files,
      listedAt: saved.listedAt,
      log,
      onFailure: (error) => void fail(error),
    },
    async ({ events, checkpoints, listedAt }) => {
      for (const event of events) await handle(event);
      if (!persist) return;
      // The sightings are durable before the positions move past them.
      await sink.persist();
      await savePositions(positions, { files: checkpoints, listedAt });
      if (events.some((event) => event.type === 'race')) delivery?.request();
    },
  );
  try {
    await follower.start();
    delivery?.request();
    if (metricsAddress !== null) {
      metrics = await startMetricsServer(metricsAddress, settings.metricsPort!, {
        health: () => ({ filesFollowed: follower.followedFiles, pending: gitlab?.summary.pending ?? 0 }),
      });
      // The follower may have failed, and the stop closed no server, while this one was starting.
      if (stopping !== null) metrics.server.close();
      else log.info({ host: settings.metricsHost, address: metrics.address, port: metrics.port }, 'serving /healthz and /metrics');
    }
  } catch (error) {
    // A start that fails (the metrics port taken) gives back what it took: the files, the sinks' state
    // saved and its lock released, the positions lock; the caller reports the error.
    log.error({ error: (error as Error).message }, 'racewatch daemon could not start');
    await stop();
    throw error;
  }
  log.info({ paths: settings.paths, files: follower.followedFiles, maxOpenFiles, watch: settings.watch, gitlab: persist }, 'racewatch daemon following');
  return { done, stop };
}

/** Runs `sweep` on a cron schedule instead of following. */
export function startScheduled(settings: Settings, runSweep: () => Promise<number>, log: Logger): RunningDaemon {
  const expression = settings.schedule!;
  if (!validate(expression)) throw new ConfigError(`RACEWATCH_SCHEDULE: "${expression}" is not a cron expression (e.g. "0 3 * * *")`);
  let current: Promise<unknown> = Promise.resolve();
  const task = schedule(
    expression,
    async () => {
      current = runSweep().then((status) => log.info({ status }, 'scheduled sweep finished'));
      await current;
    },
    { name: 'racewatch-sweep', noOverlap: true },
  );
  log.info({ schedule: expression }, 'racewatch daemon sweeping on schedule');
  let release: (failure: Error | null) => void = () => {};
  const done = new Promise<Error | null>((resolve) => (release = resolve));
  return {
    done,
    async stop() {
      await task.stop();
      await current;
      release(null);
    },
  };
}
