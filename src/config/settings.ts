import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { homedir, hostname } from 'node:os';
import path from 'node:path';
import * as z from 'zod/mini';
import '../validation/english-messages.js';
import { FORMAT_NAMES } from '../../parsers/registry.js';
import { parseDuration } from './duration.js';
import { gitlabUrlProblem, showGitlabUrl } from './gitlab-url.js';
import { isLoopbackAddress } from './loopback.js';

/**
 * Every setting racewatch reads, with where it comes from. Precedence: command-line option, then
 * environment variable, then the config file (RACEWATCH_CONFIG or --config), then the default.
 */
export interface Settings {
  maxLineBytes: number;
  linePrefix: RegExp | undefined;
  fingerprintDepth: number;
  skipFunctions: RegExp[];
  goraceLogPaths: string[];
  appModules: string[];
  /** The report formats to find (parsers/registry.ts): all by default. */
  formats: string[];
  logLevel: string;
  paths: string[];
  startAt: 'beginning' | 'end';
  reportTimeout: number;
  schedule: string | undefined;
  watch: 'events' | 'poll';
  reconcileInterval: number;
  drainTime: number;
  /** Unset: the daemon's default, the soft open file limit less a reserve (see defaultMaxOpenFiles). */
  maxOpenFiles: number | undefined;
  metricsPort: number | undefined;
  metricsHost: string;
  gitlabUrl: string | undefined;
  gitlabToken: string | undefined;
  gitlabTokenFile: string | undefined;
  gitlabProject: string | undefined;
  stateDir: string | undefined;
  labels: string[];
  ignoreLabel: string;
  /** Unset: one comment per run for scan and sweep, one per hour for the daemon. */
  commentWindow: number | undefined;
  reopenPolicy: 'reopen' | 'comment' | 'new-issue';
  maxNewIssues: number;
  host: string;
  gitlabTimeout: number;
  gitlabRetries: number;
  gitlabBackoff: number;
  gitlabMaxRetryAfter: number;
  gitlabSettle: number;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const regex = z.pipe(
  z.string(),
  z.transform((source, ctx) => {
    try {
      return new RegExp(source);
    } catch (error) {
      ctx.issues.push({ code: 'custom', message: `not a valid regular expression (${(error as Error).message})`, input: source });
      return z.NEVER;
    }
  }),
);
const list = z.pipe(
  z.union([
    z.array(z.string()),
    z.pipe(
      z.string(),
      z.transform((text) => text.split(',')),
    ),
  ]),
  z.transform((items) => items.map((item) => item.trim()).filter((item) => item.length > 0)),
);
const duration = z.pipe(
  z.string(),
  z.transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === null) {
      ctx.issues.push({ code: 'custom', message: 'must be a duration such as 0, 90s, 15m, 1h or 2d', input: text });
      return z.NEVER;
    }
    return ms;
  }),
);
const text = z.string().check(z.trim(), z.minLength(1, 'must not be empty'));
const gitlabUrl = z.pipe(
  z.string('must be a URL such as https://gitlab.example.com').check(z.trim()),
  z.transform((url, ctx) => {
    const problem = gitlabUrlProblem(url);
    if (problem === null) return url;
    ctx.issues.push({ code: 'custom', message: problem, input: url });
    return z.NEVER;
  }),
);
const integer = (min: number) => z.coerce.number().check(z.int('must be a whole number'), z.minimum(min, `must be at least ${min}`));

const SETTINGS = {
  maxLineBytes: { env: 'RACEWATCH_MAX_LINE_BYTES', schema: integer(1024), fallback: 1024 * 1024 },
  linePrefix: { env: 'RACEWATCH_LINE_PREFIX', schema: z.optional(regex), fallback: undefined },
  fingerprintDepth: { env: 'RACEWATCH_FINGERPRINT_DEPTH', schema: integer(1).check(z.maximum(32, 'must be at most 32')), fallback: 1 },
  skipFunctions: { env: 'RACEWATCH_SKIP_FUNCTIONS', schema: z.pipe(list, z.array(regex)), fallback: [] as RegExp[] },
  goraceLogPaths: { env: 'RACEWATCH_GORACE_LOG_PATHS', schema: list, fallback: [] as string[] },
  appModules: { env: 'RACEWATCH_APP_MODULES', schema: list, fallback: [] as string[] },
  formats: {
    env: 'RACEWATCH_FORMATS',
    schema: z.pipe(
      list,
      z
        .array(z.enum(FORMAT_NAMES as [string, ...string[]], `each must be one of ${FORMAT_NAMES.join(', ')}`))
        .check(z.minLength(1, 'needs at least one format')),
    ),
    fallback: [...FORMAT_NAMES],
  },
  logLevel: {
    env: 'LOG_LEVEL',
    schema: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']),
    fallback: 'info',
  },
  paths: { env: 'RACEWATCH_PATHS', schema: list, fallback: [] as string[] },
  startAt: { env: 'RACEWATCH_START_AT', schema: z.enum(['beginning', 'end']), fallback: 'beginning' },
  reportTimeout: { env: 'RACEWATCH_REPORT_TIMEOUT', schema: duration, fallback: 5000 },
  schedule: { env: 'RACEWATCH_SCHEDULE', schema: text, fallback: undefined },
  watch: { env: 'RACEWATCH_WATCH', schema: z.enum(['events', 'poll']), fallback: 'events' },
  reconcileInterval: { env: 'RACEWATCH_RECONCILE_INTERVAL', schema: duration, fallback: 2000 },
  drainTime: { env: 'RACEWATCH_DRAIN_TIME', schema: duration, fallback: 30_000 },
  maxOpenFiles: { env: 'RACEWATCH_MAX_OPEN_FILES', schema: integer(1), fallback: undefined },
  metricsPort: { env: 'RACEWATCH_METRICS_PORT', schema: integer(0).check(z.maximum(65535, 'must be a TCP port')), fallback: undefined },
  metricsHost: {
    env: 'RACEWATCH_METRICS_HOST',
    // An address is checked here; a name (localhost) only where the metrics server starts, once resolved:
    // every address it resolves to must be loopback (src/observability/http.ts).
    schema: text.check(z.refine((host) => isIP(host) === 0 || isLoopbackAddress(host), 'must be a loopback address (127.0.0.0/8 or ::1)')),
    fallback: '127.0.0.1',
  },
  // Shown masked in errors: a URL may carry a user name and password (which racewatch refuses).
  gitlabUrl: { env: 'GITLAB_URL', schema: gitlabUrl, fallback: undefined, show: showGitlabUrl },
  gitlabToken: { env: 'GITLAB_TOKEN', schema: text, fallback: undefined, secret: true },
  gitlabTokenFile: { env: 'GITLAB_TOKEN_FILE', schema: text, fallback: undefined },
  gitlabProject: { env: 'GITLAB_PROJECT', schema: text, fallback: undefined },
  stateDir: { env: 'RACEWATCH_STATE_DIR', schema: text, fallback: undefined },
  labels: { env: 'RACEWATCH_LABELS', schema: z.pipe(list, z.array(z.string()).check(z.minLength(1, 'needs at least one label'))), fallback: ['race'] },
  ignoreLabel: { env: 'RACEWATCH_IGNORE_LABEL', schema: text, fallback: 'race::ignore' },
  commentWindow: { env: 'RACEWATCH_COMMENT_WINDOW', schema: duration, fallback: undefined },
  reopenPolicy: { env: 'RACEWATCH_REOPEN_POLICY', schema: z.enum(['reopen', 'comment', 'new-issue']), fallback: 'reopen' },
  maxNewIssues: { env: 'RACEWATCH_MAX_NEW_ISSUES', schema: integer(0), fallback: 25 },
  host: { env: 'RACEWATCH_HOST', schema: text, fallback: hostname() },
  gitlabTimeout: { env: 'RACEWATCH_GITLAB_TIMEOUT', schema: duration, fallback: 30_000 },
  gitlabBackoff: { env: 'RACEWATCH_GITLAB_BACKOFF', schema: duration, fallback: 1000 },
  gitlabRetries: { env: 'RACEWATCH_GITLAB_RETRIES', schema: integer(0).check(z.maximum(20, 'must be at most 20')), fallback: 5 },
  gitlabMaxRetryAfter: { env: 'RACEWATCH_GITLAB_MAX_RETRY_AFTER', schema: duration, fallback: 300_000 },
  gitlabSettle: { env: 'RACEWATCH_GITLAB_SETTLE', schema: duration, fallback: 120_000 },
} as const;

type SettingName = keyof typeof SETTINGS;
export type SettingOverrides = Partial<Record<SettingName, unknown>>;

export const SETTING_ENV_NAMES: Record<SettingName, string> = Object.fromEntries(
  Object.entries(SETTINGS).map(([name, setting]) => [name, setting.env]),
) as Record<SettingName, string>;

export function loadSettings(env: NodeJS.ProcessEnv, flags: SettingOverrides, configFile: string | undefined = env.RACEWATCH_CONFIG): Settings {
  const fromFile = configFile ? readConfigFile(configFile) : {};
  const settings: Record<string, unknown> = {};
  for (const [name, setting] of Object.entries(SETTINGS) as [SettingName, (typeof SETTINGS)[SettingName]][]) {
    const [origin, raw] = pick(name, setting.env, flags, env, fromFile, configFile);
    if (raw === undefined) {
      settings[name] = setting.fallback;
      continue;
    }
    const parsed = (setting.schema as z.ZodMiniType).safeParse(raw);
    if (!parsed.success) {
      const reason = parsed.error.issues.map((issue) => issue.message).join('; ');
      const shown = 'show' in setting ? setting.show(typeof raw === 'string' ? raw : String(JSON.stringify(raw))) : raw;
      const got = 'secret' in setting ? '' : ` (got ${JSON.stringify(shown)})`;
      throw new ConfigError(`${origin}: ${reason}${got}`);
    }
    settings[name] = parsed.data;
  }
  return settings as unknown as Settings;
}

/** Where state lives by default: systemd's StateDirectory, else the XDG state directory. */
export function defaultStateDir(env: NodeJS.ProcessEnv): string {
  const systemd = env.STATE_DIRECTORY?.split(':')[0];
  if (systemd) return systemd;
  return path.join(env.XDG_STATE_HOME || path.join(homedir(), '.local', 'state'), 'racewatch');
}

function pick(
  name: SettingName,
  envName: string,
  flags: SettingOverrides,
  env: NodeJS.ProcessEnv,
  fromFile: Record<string, unknown>,
  configFile: string | undefined,
): [string, unknown] {
  if (flags[name] !== undefined) return [`--${kebab(name)}`, flags[name]];
  if (env[envName] !== undefined && env[envName] !== '') return [envName, env[envName]];
  return [`${configFile}: "${name}"`, fromFile[name]];
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`config file ${file}: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`config file ${file}: not valid JSON (${(error as Error).message})`);
  }
  const shape = z.record(z.string(), z.unknown()).safeParse(value);
  if (!shape.success) throw new ConfigError(`config file ${file}: must be a JSON object`);
  const unknown = Object.keys(shape.data).filter((key) => !(key in SETTINGS));
  if (unknown.length > 0) {
    throw new ConfigError(`config file ${file}: unknown setting(s) ${unknown.join(', ')}; known: ${Object.keys(SETTINGS).join(', ')}`);
  }
  return shape.data;
}
