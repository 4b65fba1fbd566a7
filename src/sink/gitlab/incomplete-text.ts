import type { Sighting } from '../../state/sink-state.js';

/**
 * What an issue or comment says about a report that lost a side (half) or both (incomplete), and what to do.
 * GORACE's history_size, per the Go race detector's documentation (https://go.dev/doc/articles/race_detector#Options):
 * "The per-goroutine memory access history is 32K * 2**history_size elements. Increasing this value can avoid a
 * 'failed to restore the stack' error in reports". Its default is 1; the runtime accepts 0 to 7.
 */
export const HISTORY_SIZE_DOCS = 'https://go.dev/doc/articles/race_detector#Options';

const REASONS: Record<Sighting['unknownSides'][number]['reason'], (access: string) => string> = {
  lost: (access) =>
    `the stack of the ${access} was lost: Go printed \`[failed to restore the stack]\`, as that access had already left the race detector's history`,
  cut: (access) => `the report was cut off (the log ended, or the program died) before the stack of the ${access} showed a function of the program`,
  'no-frames': (access) => `no frame of the ${access} is in the log (its stack lines are missing)`,
  'not-printed': (access) => `the report was cut off before its ${access}`,
};

/** Lines to put before the report's code block; none for a complete report. */
export function incompleteNotice(sighting: Sighting, latest: boolean): string[] {
  if (sighting.kind === 'complete') return [];
  const which = latest ? 'The latest report is incomplete' : 'Incomplete report';
  const why = sighting.unknownSides.map((side) => REASONS[side.reason](side.access)).join('; ') || 'a side of it names no function';
  const lines = [`> **${which}:** ${why}.`];
  if (sighting.kind === 'half') {
    lines.push('> racewatch matched it by its other side, the one that names a function. A complete report of this race joins this issue.');
  } else {
    lines.push(
      '> Neither access names a function, so racewatch can only tell it from other reports by where its goroutines were created, or else by its own text: ' +
        'complete reports of the same race may be filed elsewhere.',
    );
  }
  if (sighting.unknownSides.some((side) => side.reason === 'lost')) {
    lines.push(
      '> To keep both stacks next time, run the program with a larger `GORACE=history_size=N` (the default is 1, at most 7): ' +
        `the race detector then keeps 32K × 2^N memory accesses per goroutine ([Go's race detector options](${HISTORY_SIZE_DOCS})).`,
    );
  }
  return [...lines, ''];
}

/** The "Racing functions" of a report that lost a side or both. */
export function racingFunctionsOf(sighting: Sighting, describe: (names: string[]) => string): string {
  if (sighting.kind === 'incomplete') return 'not in the report (see below)';
  if (sighting.kind === 'half') return `${describe(sighting.racingFrames)} and one the report lost (see below)`;
  return describe(sighting.racingFrames);
}
