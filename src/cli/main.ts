#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { FORMAT_NAMES } from '../../parsers/registry.js';
import { ConfigError } from '../config/settings.js';
import { GitlabConfigurationError } from '../sink/gitlab/errors.js';
import { StateWriteError } from '../state/atomic-file.js';
import { StateCorruptError } from '../state/json-file.js';
import { StateLockedError } from '../state/sink-state.js';
import { environmentErrorSentence } from './environment-errors.js';
import { EXIT } from './exit-codes.js';
import type { ScanFlags } from './scan.js';
import type { CommandIo } from './wiring.js';

// Read at run time from beside the bundle, dist/racewatch.js (see the bundle script in package.json).
const packageJson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

const EXIT_HELP =
  '\nExit status: 0 success, 1 races found (only with --exit-code), 2 usage, configuration, state or input error,\n' +
  '3 GitLab unreachable or refusing: the sightings stay pending in the state directory for the next run.\n' +
  'Logs and progress go to stderr; stdout carries only the summary or the JSON. Settings: see README.';

/** Options every command that reads logs takes. */
function addSharedOptions(command: Command): Command {
  return command
    .option('--config <file>', 'JSON config file with any of the settings (see README) [env: RACEWATCH_CONFIG]')
    .option('--state-dir <dir>', 'where racewatch remembers filed issues, pending sightings and read positions [env: RACEWATCH_STATE_DIR]')
    .option('--line-prefix <regex>', 'strip this prefix from every line before parsing [env: RACEWATCH_LINE_PREFIX]')
    .option('--max-line-bytes <n>', 'cut lines longer than this (default 1048576) [env: RACEWATCH_MAX_LINE_BYTES]')
    .option('--fingerprint-depth <n>', 'application frames per access in the fingerprint (default 1) [env: RACEWATCH_FINGERPRINT_DEPTH]')
    .option('--skip-function <regex>', 'helper function never used as a racing function; repeatable [env: RACEWATCH_SKIP_FUNCTIONS, comma-separated]', collect)
    .option(
      '--app-module <prefix>',
      'import path prefix of your code; repeatable (default: every non-standard-library package) [env: RACEWATCH_APP_MODULES, comma-separated]',
      collect,
    )
    .option('--formats <names>', `report formats to find, comma-separated: ${FORMAT_NAMES.join(', ')} (default: all) [env: RACEWATCH_FORMATS]`)
    .addOption(
      new Option('--log-level <level>', 'log verbosity on stderr [env: LOG_LEVEL]').choices(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']),
    );
}

function commonFlags(options: Record<string, unknown>) {
  return {
    json: options.json as boolean | undefined,
    dryRun: options.dryRun as boolean | undefined,
    exitCode: options.exitCode as boolean | undefined,
    config: options.config as string | undefined,
    stateDir: options.stateDir,
    linePrefix: options.linePrefix,
    maxLineBytes: options.maxLineBytes,
    fingerprintDepth: options.fingerprintDepth,
    skipFunctions: options.skipFunction,
    appModules: options.appModule,
    formats: options.formats,
    logLevel: options.logLevel,
  };
}

function processIo(): CommandIo {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env };
}

function buildProgram(): Command {
  const program = new Command('racewatch')
    .description('Finds Go race detector reports in logs and files one GitLab issue per distinct race.')
    .version(packageJson.version)
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');

  addSharedOptions(
    program
      .command('scan')
      .description(
        'Scan log files once and file every race found in GitLab (GITLAB_URL, GITLAB_TOKEN or GITLAB_TOKEN_FILE, GITLAB_PROJECT; see README). Without GitLab settings, or with --dry-run, it prints the issues it would file.',
      )
      .argument('<paths...>', 'log files, directories (searched recursively), globs (quote them), .gz files, or - for stdin'),
  )
    .option('--json', 'print one JSON object per race report on stdout (NDJSON) instead of the summary')
    .option('--dry-run', 'file nothing; print what would be filed (the default while GitLab is not configured)')
    .option('--exit-code', 'exit 1 when races were found (for CI gates)')
    .option('--progress', 'always show progress on stderr (default: only at a terminal, for inputs over 64 MiB)')
    .option('--no-progress', 'never show progress')
    .addHelpText('after', EXIT_HELP)
    .action(async (paths: string[], options: Record<string, unknown>) => {
      const flags: ScanFlags = { ...commonFlags(options), progress: options.progress as boolean | undefined };
      const { runScan } = await import('./scan.js');
      process.exitCode = await runScan(paths, flags, processIo());
    });
  addSharedOptions(
    program
      .command('sweep')
      .description(
        'Scan the configured logs (RACEWATCH_PATHS, or the paths given) once, each from where the last sweep stopped, file what is new, and exit. For crontab or a systemd timer.',
      )
      .argument('[paths...]', 'files, directories or globs; default: RACEWATCH_PATHS'),
  )
    .option('--json', 'also print one JSON object per race report read in this sweep on stdout (NDJSON)')
    .option('--dry-run', 'file nothing and move no saved position; print what would be filed')
    .option('--exit-code', 'exit 1 when races were found')
    .option(
      '--start-at <where>',
      'first sweep ever: read existing logs from the "beginning" (default) or only what is added from the "end" on [env: RACEWATCH_START_AT]',
    )
    .option(
      '--report-timeout <duration>',
      'a report still open at the end of a file unchanged for this long is filed as cut off (default 5s) [env: RACEWATCH_REPORT_TIMEOUT]',
    )
    .addHelpText('after', EXIT_HELP)
    .action(async (paths: string[], options: Record<string, unknown>) => {
      const { runSweep } = await import('./sweep.js');
      process.exitCode = await runSweep(paths, { ...commonFlags(options), startAt: options.startAt, reportTimeout: options.reportTimeout }, processIo());
    });
  addSharedOptions(
    program
      .command('daemon')
      .description(
        'Run as a service: follow RACEWATCH_PATHS and file reports as they complete (or, with RACEWATCH_SCHEDULE, sweep them on that cron schedule) until SIGTERM/SIGINT. Logs JSON on stdout.',
      ),
  )
    .option('--dry-run', 'file nothing and save no position; log each report found')
    .option('--start-at <where>', 'logs already there at the first start: read from the "beginning" (default) or only from the "end" [env: RACEWATCH_START_AT]')
    .option('--report-timeout <duration>', 'a report left unfinished this long is filed as cut off (default 5s) [env: RACEWATCH_REPORT_TIMEOUT]')
    .addHelpText('after', EXIT_HELP)
    .action(async (options: Record<string, unknown>) => {
      const { runDaemon } = await import('./daemon.js');
      process.exitCode = await runDaemon({ ...commonFlags(options), startAt: options.startAt, reportTimeout: options.reportTimeout }, processIo());
    });
  return program;
}

async function main(): Promise<void> {
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.inputError;
      return;
    }
    if (error instanceof ConfigError || error instanceof GitlabConfigurationError) {
      process.stderr.write(`racewatch: configuration error: ${error.message}\n`);
      process.exitCode = EXIT.inputError;
      return;
    }
    if (error instanceof StateCorruptError || error instanceof StateLockedError || error instanceof StateWriteError) {
      process.stderr.write(`racewatch: ${error.message}\n`);
      process.exitCode = EXIT.inputError;
      return;
    }
    const sentence = environmentErrorSentence(error);
    if (sentence === null) throw error;
    process.stderr.write(`racewatch: ${sentence}\n`);
    process.exitCode = EXIT.inputError;
  }
}

process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  // The reader went away (`racewatch scan ... | head`): nothing left to say to it.
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? EXIT.ok);
  throw error;
});

await main();
