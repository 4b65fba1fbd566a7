import { execFile, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { watchForStackTraces } from './stack-trace-guard.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = path.join(ROOT, 'dist/racewatch.js');

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built racewatch binary as a user would (npm test builds it first). */
export function racewatch(args: string[], options: { env?: Record<string, string>; input?: string | Buffer } = {}): CliResult {
  const env: Record<string, string | undefined> = { ...process.env, LOG_LEVEL: undefined, ...options.env };
  for (const key of Object.keys(env)) if (key.startsWith('RACEWATCH_') && !options.env?.[key]) delete env[key];
  const result = spawnSync(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    env: env as NodeJS.ProcessEnv,
    input: options.input,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  watchForStackTraces(`racewatch ${args.join(' ')}`, () => `${result.stdout}\n${result.stderr}`);
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Runs the built CLI without blocking this process (which may be serving the GitLab stand-in). */
export function racewatchAsync(args: string[], env: Record<string, string>, cwd = ROOT): Promise<CliResult & { status: number }> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('RACEWATCH_') && !key.startsWith('GITLAB_')));
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...base, ...env }, cwd, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      watchForStackTraces(`racewatch ${args.join(' ')}`, () => `${stdout}\n${stderr}`);
      resolve({ status: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}
