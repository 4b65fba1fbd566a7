import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/** Secrets that must never reach a log line, whatever object they hide in. */
export const REDACTED_PATHS = ['token', '*.token', 'gitlabToken', '*.gitlabToken', 'headers["private-token"]', '*.headers["private-token"]'];

/** Structured JSON logs; human-readable only when a person is watching the terminal. */
export function createLogger(level: string, destination: NodeJS.WritableStream & { isTTY?: boolean }): Logger {
  const options = { level, redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' }, base: { app: 'racewatch' } };
  if (destination.isTTY) {
    return pino(options, pretty({ destination, sync: true, ignore: 'pid,hostname,app', colorize: true }));
  }
  return pino(options, destination);
}
