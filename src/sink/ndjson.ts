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
  return {
    id: occurrence.id,
    format: occurrence.report.format,
    reportKind: occurrence.report.kind,
    fingerprint: occurrence.fingerprint,
    kind: occurrence.identity.kind,
    lineage: occurrence.identity.lineage,
    title: occurrence.title,
    source: occurrence.source,
    line: occurrence.line,
    offset: occurrence.offset,
    truncated: occurrence.truncated,
    sides: occurrence.sides,
    ...occurrence.details,
    text: occurrence.text,
  };
}
