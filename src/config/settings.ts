import { readFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * Every setting racewatch reads, with where it comes from. Precedence: command-line option, then
 * environment variable, then the config file (RACEWATCH_CONFIG or --config), then the default.
 */
export interface ScanSettings {
  maxLineBytes: number;
  linePrefix: RegExp | undefined;
  fingerprintDepth: number;
  skipFunctions: RegExp[];
  appModules: string[];
  logLevel: string;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const regex = z.string().transform((source, ctx) => {
  try {
    return new RegExp(source);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `not a valid regular expression (${(error as Error).message})` });
    return z.NEVER;
  }
});
const list = z.union([z.array(z.string()), z.string().transform((text) => text.split(','))]).transform((items) =>
  items.map((item) => item.trim()).filter((item) => item.length > 0),
);
const integer = (min: number) => z.coerce.number().int(`must be a whole number`).min(min, `must be at least ${min}`);

const SETTINGS = {
  maxLineBytes: { env: 'RACEWATCH_MAX_LINE_BYTES', schema: integer(1024), fallback: 1024 * 1024 },
  linePrefix: { env: 'RACEWATCH_LINE_PREFIX', schema: regex.optional(), fallback: undefined },
  fingerprintDepth: { env: 'RACEWATCH_FINGERPRINT_DEPTH', schema: integer(1).max(32, 'must be at most 32'), fallback: 1 },
  skipFunctions: { env: 'RACEWATCH_SKIP_FUNCTIONS', schema: list.pipe(z.array(regex)), fallback: [] as RegExp[] },
  appModules: { env: 'RACEWATCH_APP_MODULES', schema: list, fallback: [] as string[] },
  logLevel: {
    env: 'LOG_LEVEL',
    schema: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']),
    fallback: 'info',
  },
} as const;

type SettingName = keyof typeof SETTINGS;
export type SettingOverrides = Partial<Record<SettingName, unknown>>;

export const SETTING_ENV_NAMES: Record<SettingName, string> = Object.fromEntries(
  Object.entries(SETTINGS).map(([name, setting]) => [name, setting.env]),
) as Record<SettingName, string>;

export function loadScanSettings(
  env: NodeJS.ProcessEnv,
  flags: SettingOverrides,
  configFile: string | undefined = env.RACEWATCH_CONFIG,
): ScanSettings {
  const fromFile = configFile ? readConfigFile(configFile) : {};
  const settings: Record<string, unknown> = {};
  for (const [name, setting] of Object.entries(SETTINGS) as [SettingName, (typeof SETTINGS)[SettingName]][]) {
    const [origin, raw] = pick(name, setting.env, flags, env, fromFile, configFile);
    if (raw === undefined) {
      settings[name] = setting.fallback;
      continue;
    }
    const parsed = (setting.schema as z.ZodType).safeParse(raw);
    if (!parsed.success) {
      const reason = parsed.error.issues.map((issue) => issue.message).join('; ');
      throw new ConfigError(`${origin}: ${reason} (got ${JSON.stringify(raw)})`);
    }
    settings[name] = parsed.data;
  }
  return settings as unknown as ScanSettings;
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
