import { loadSettings, type SettingOverrides } from '../config/settings.js';
import { createLogger } from '../log/logger.js';
import { startFollowing, startScheduled, type RunningDaemon } from '../daemon/daemon.js';
import { environmentErrorSentence } from './environment-errors.js';
import { EXIT } from './exit-codes.js';
import { runSweep } from './sweep.js';
import type { CommandIo } from './wiring.js';

export interface DaemonFlags extends SettingOverrides {
  dryRun?: boolean;
  config?: string;
}

/**
 * The service: follows RACEWATCH_PATHS (or sweeps them on RACEWATCH_SCHEDULE) until SIGTERM or SIGINT,
 * then saves its state and exits 0. Logs are JSON on stdout for journald.
 */
export async function runDaemon(flags: DaemonFlags, io: CommandIo): Promise<number> {
  const { dryRun, config, ...overrides } = flags;
  const settings = loadSettings(io.env, overrides, config ?? io.env.RACEWATCH_CONFIG);
  const log = createLogger(settings.logLevel, io.stdout as CommandIo['stderr']);
  // Installed before starting: a signal during start-up stops the daemon once it is up, never kills it midway.
  let running: RunningDaemon | null = null;
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    log.info({ signal }, 'stopping');
    signalled = true;
    void running?.stop();
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  running = settings.schedule
    ? startScheduled(settings, () => runSweep([], { dryRun, config, ...overrides }, io), log)
    : await startFollowing(settings, io, log, dryRun === true).catch((error: unknown) => {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        throw error;
      });
  if (signalled) void running.stop();
  const failure = await running.done;
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  if (failure === null) return EXIT.ok;
  // The reason was logged; say it once more where a person running it by hand looks.
  io.stderr.write(`racewatch: ${environmentErrorSentence(failure) ?? failure.message}\n`);
  return EXIT.inputError;
}
