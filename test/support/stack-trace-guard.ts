import { afterEach } from 'vitest';

/**
 * Whatever racewatch prints in a test, it never prints a stack trace: a user gets one sentence. Every
 * racewatch process the test helpers start hands its output here, and a test whose racewatch printed a
 * stack trace (an uncaught error or an unhandled rejection in the child) fails, whatever it asserted.
 */
const STACK_TRACE = /^\s+at .+:\d+:\d+\)?$|^Node\.js v\d+/m;
const outputs: Array<{ what: string; text: () => string }> = [];

export function watchForStackTraces(what: string, text: () => string): void {
  outputs.push({ what, text });
}

afterEach(() => {
  const found = outputs.map(({ what, text }) => ({ what, text: text() })).filter(({ text }) => STACK_TRACE.test(text));
  outputs.length = 0;
  if (found.length > 0) {
    const { what, text } = found[0]!;
    throw new Error(`racewatch printed a stack trace (${what}):\n${text.slice(-3000)}`);
  }
});
