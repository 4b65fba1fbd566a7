import type { Access, GoRaceReport, GoroutineOrigin } from './model.js';
import { isWrapperFrame, normalizeFunctionName, shortFunctionName } from './names.js';

/**
 * What identifies a report neither of whose accesses names a function (its stacks lost in a paste, the report cut
 * right after its access lines, both histories overwritten). Sharing one key between all of them would put every
 * such report of every bug into one issue, so each falls back to the most specific thing it still has:
 *
 * 1. `creations`: for each access, its operation and the sites that created its goroutine (each frame of the
 *    creation stack with its file's last directory, base name and line), or "main goroutine". Places are in this
 *    key, unlike the others: by name alone, every goroutine started from `main.main` of any program would share it
 *    (the directory tells `cmd/a/main.go` from `cmd/b/main.go`). Two reports share it only when the same kinds of
 *    access raced in goroutines started at the same lines of the same program.
 * 2. `content`: the report's own text, normalized so that a rerun gives the same key (addresses, goroutine ids,
 *    `+0x` offsets and directories gone), when that text says more than its access lines (a location section).
 * 3. `report`: the report's text as printed, when all it has are access lines: nothing in it tells one bug from
 *    another, so it only ever matches itself (the same report read again).
 */
export interface IncompleteIdentity {
  basis: 'creations' | 'content' | 'report';
  payload: string;
  /** What the key was computed from, shown as the report's sides. */
  sides: string[][];
  title: string;
}

export function incompleteIdentity(report: Pick<GoRaceReport, 'accesses' | 'creations' | 'text'>): IncompleteIdentity {
  const origins = report.accesses.map((access) => originOf(access, report.creations));
  if (origins.some((origin) => origin !== null && origin[0] !== MAIN_GOROUTINE)) {
    const sides = report.accesses.map((access, i) => [access.op, ...(origins[i] ?? [UNKNOWN_GOROUTINE])]).sort(compareSides);
    const places = sides.map((side) => shortFunctionName(side[1]!.replace(/ \(.*\)$/, ''))).join(' / ');
    return { basis: 'creations', payload: JSON.stringify(sides), sides, title: `Data race (incomplete report): goroutines from ${places}` };
  }
  const content = normalizedContent(report.text);
  const says = content.some((line) => !BOILERPLATE.some((pattern) => pattern.test(line)));
  const title = 'Data race (incomplete report, no stack printed)';
  if (says) return { basis: 'content', payload: content.join('\n'), sides: [], title };
  return { basis: 'report', payload: report.text, sides: [], title };
}

const MAIN_GOROUTINE = 'main goroutine';
const UNKNOWN_GOROUTINE = 'goroutine of unknown origin';

function originOf(access: Access, creations: GoroutineOrigin[]): string[] | null {
  if (access.goroutine === 'main') return [MAIN_GOROUTINE];
  const creation = creations.find((candidate) => candidate.goroutine === access.goroutine);
  const sites = (creation?.stack.frames ?? [])
    .filter((frame) => !isWrapperFrame(frame.func, frame.file))
    .map((frame) => `${normalizeFunctionName(frame.func)} (${lastDirectoryAndName(frame.file)}:${frame.line})`);
  return sites.length > 0 ? sites : null;
}

/** `/home/ci/builds/7/cmd/soakd/main.go` → `soakd/main.go`: the same for every build directory. */
function lastDirectoryAndName(file: string): string {
  return file.split('/').slice(-2).join('/');
}

function compareSides(a: string[], b: string[]): number {
  return a.join('\n').localeCompare(b.join('\n'));
}

// Lines every report has, whatever its bug.
const BOILERPLATE = [
  /^WARNING: DATA RACE$/,
  /^=+$/,
  /^(?:Previous )?(?:read|write)(?: at 0x)? by goroutine N:$/i,
  /^Goroutine N created at:$/,
  /^\[failed to restore the stack\]$/,
];

/** The report's lines as every rerun prints them: no addresses, goroutine ids, offsets, directories or indentation. */
function normalizedContent(text: string): string[] {
  return text
    .split('\n')
    .map((line) =>
      line
        .trim()
        .replace(/ \+0x[0-9a-fA-F]+$/, '')
        .replace(/0x[0-9a-fA-F]+/g, '0x')
        .replace(/\b(by (?:main )?goroutine)(?: \d+)?:$/, 'by goroutine N:')
        .replace(/^Goroutine \d+ \((?:running|finished)\)/, 'Goroutine N')
        .replace(/^(?:\S*\/)?([^/\s]+:\d+)$/, '$1'),
    )
    .filter((line) => line !== '');
}
