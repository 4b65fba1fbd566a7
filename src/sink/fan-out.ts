import type { RaceSink } from './sink.js';

/** Several sinks fed the same occurrences (e.g. --json output while filing to GitLab). */
export function fanOut(sinks: RaceSink[]): RaceSink {
  return {
    async accept(occurrence) {
      for (const sink of sinks) await sink.accept(occurrence);
    },
    async finish() {
      for (const sink of sinks) await sink.finish();
    },
  };
}
