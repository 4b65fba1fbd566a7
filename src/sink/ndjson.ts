import type { Writable } from 'node:stream';
import type { RaceOccurrence } from '../pipeline/occurrence.js';
import { writeOut } from './output.js';
import type { RaceSink } from './sink.js';

/** `--json`: one object per occurrence, in input order, for other tools to consume. */
export function createNdjsonSink(out: Writable): RaceSink {
  return {
    async accept(occurrence) {
      await writeOut(out, `${JSON.stringify(toJson(occurrence))}\n`);
    },
    async finish() {},
  };
}

function toJson(occurrence: RaceOccurrence): Record<string, unknown> {
  const { report } = occurrence;
  return {
    id: occurrence.id,
    fingerprint: occurrence.fingerprint,
    kind: occurrence.identity.kind,
    lineage: occurrence.identity.lineage,
    title: occurrence.title,
    source: occurrence.source,
    line: occurrence.line,
    offset: occurrence.offset,
    truncated: occurrence.truncated,
    sides: occurrence.sides,
    accesses: report.accesses.map((access) => ({
      op: access.op,
      previous: access.previous,
      goroutine: access.goroutine,
      stackLost: access.stack.lost,
      frames: access.stack.frames,
    })),
    creations: report.creations.map((creation) => ({
      goroutine: creation.goroutine,
      state: creation.state,
      stackLost: creation.stack.lost,
      frames: creation.stack.frames,
    })),
    text: occurrence.text,
  };
}
