import { createRequire } from 'node:module';
import { pino, type Logger } from 'pino';
import type { PrettyStream } from 'pino-pretty';

export type { Logger };

/** Secrets that must never reach a log line, whatever object they hide in. */
export const REDACTED_PATHS = ['token', '*.token', 'gitlabToken', '*.gitlabToken', 'headers["private-token"]', '*.headers["private-token"]'];

/** Structured JSON logs; human-readable only when a person is watching the terminal. */
export function createLogger(level: string, destination: NodeJS.WritableStream & { isTTY?: boolean }): Logger {
  const options = { level, redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' }, base: { app: 'racewatch' } };
  if (destination.isTTY) {
    // Loaded only for a person at a terminal; services and pipes get plain JSON.
    const pretty = createRequire(import.meta.url)('pino-pretty') as (options: object) => PrettyStream;
    return pino(options, pretty({ destination, sync: true, ignore: 'pid,hostname,app', colorize: true }));
  }
  return pino(options, destination);
}
