import type { DurableSink, RaceSink } from './sink.js';

/** Several sinks fed the same occurrences (e.g. --json output while filing to GitLab). */
export function fanOut(sinks: RaceSink[]): DurableSink {
  return {
    async accept(occurrence) {
      for (const sink of sinks) await sink.accept(occurrence);
    },
    /** Resolves once every sink that keeps occurrences across crashes has them on disk. */
    async persist() {
      for (const sink of sinks) if (isDurable(sink)) await sink.persist();
    },
    async finish() {
      for (const sink of sinks) await sink.finish();
    },
  };
}

function isDurable(sink: RaceSink): sink is DurableSink {
  return typeof (sink as Partial<DurableSink>).persist === 'function';
}
