import type { Access, GoroutineOrigin, GoRaceReport, Stack } from '../../parsers/go-race/model.js';
import { parseGoRaceLines } from '../../parsers/go-race/grammar.js';

/**
 * Prints a parsed report back in the Go race detector's format (tsan_report.cpp, Go branch), so tests can
 * vary one aspect of a real report (ids, paths, order, callers) and parse the result again.
 */
export function renderReport(report: Pick<GoRaceReport, 'accesses' | 'creations'>): string {
  const lines = ['==================', 'WARNING: DATA RACE'];
  report.accesses.forEach((access, index) => {
    if (index > 0) lines.push('');
    lines.push(accessHeader(access, index === 0), ...stackLines(access.stack));
  });
  for (const creation of report.creations) lines.push('', creationHeader(creation), ...stackLines(creation.stack));
  lines.push('==================');
  return `${lines.join('\n')}\n`;
}

function accessHeader(access: Access, first: boolean): string {
  const verb = access.op === 'write' ? 'write' : 'read';
  const label = first ? verb[0]!.toUpperCase() + verb.slice(1) : `Previous ${verb}`;
  const who = access.goroutine === 'main' ? 'main goroutine' : `goroutine ${access.goroutine}`;
  return `${label} at ${access.address ?? '0x00c000000000'} by ${who}:`;
}

function creationHeader(creation: GoroutineOrigin): string {
  return `Goroutine ${creation.goroutine} (${creation.state}) created at:`;
}

function stackLines(stack: Stack): string[] {
  if (stack.lost) return ['  [failed to restore the stack]'];
  return stack.frames.flatMap((frame, index) => [`  ${frame.func}()`, `      ${frame.file}:${frame.line} +0x${(index * 0x14 + 0x1c).toString(16)}`]);
}

/** The report printed back and parsed again, as racewatch would read a log that held the varied report. */
export function reparse(report: Pick<GoRaceReport, 'accesses' | 'creations'>, options: { truncateAfterLine?: number } = {}): GoRaceReport {
  let lines = renderReport(report).split('\n');
  if (options.truncateAfterLine !== undefined) lines = lines.slice(0, options.truncateAfterLine);
  const events = parseGoRaceLines(lines.map((text, i) => ({ text, line: i + 1, offset: 0 })));
  const parsed = events.find((event) => event.type === 'report');
  if (parsed?.type !== 'report') throw new Error('re-rendered report did not parse');
  return parsed.report;
}
