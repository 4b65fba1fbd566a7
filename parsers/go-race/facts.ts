import type { Fingerprint } from '../../src/fingerprint/fingerprint.js';
import type { ReportFacts } from '../format.js';
import type { Frame, GoRaceReport } from './model.js';
import { normalizeFunctionName } from './names.js';

/** The racing functions with their places, and where the goroutines were created. */
export function goRaceFacts(report: GoRaceReport, fingerprint: Fingerprint): ReportFacts {
  const frames = report.accesses.flatMap((access) => access.stack.frames);
  return {
    // A report without frames is keyed by what it still has (creation sites), not by racing functions.
    racingFrames: fingerprint.kind === 'incomplete' ? [] : fingerprint.sides.map((side) => describeFrame(side[0]!, frames)),
    creationSites: report.creations.flatMap((creation) => {
      const site = creation.stack.frames[0];
      return site ? [`${site.func} (${baseLocation(site)})`] : [];
    }),
  };
}

/** What `--json` prints of a Go race report: both accesses and the goroutines' creation stacks. */
export function goRaceDetails(report: GoRaceReport): Record<string, unknown> {
  return {
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
  };
}

function describeFrame(name: string, frames: Frame[]): string {
  const frame = frames.find((candidate) => normalizeFunctionName(candidate.func) === name);
  return frame ? `${name} (${baseLocation(frame)})` : name;
}

function baseLocation(frame: Frame): string {
  return `${frame.file.slice(frame.file.lastIndexOf('/') + 1)}:${frame.line}`;
}
