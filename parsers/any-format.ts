import type { ParserOptions, ReportFormat } from './format.js';
import type { ParserEvent, ReportLine, ReportParser } from './report.js';

/**
 * One parser for several formats, for one source: at most one report is open at a time, and it belongs to the
 * format whose parser took its marker line. A line that ends one format's report (a Go race report cut off by
 * `fatal error: concurrent map writes`) is offered to the other formats, as it may open a report of theirs.
 */
export function createAnyFormatParser(formats: readonly ReportFormat[], options: ParserOptions): ReportParser {
  return composite(formats.map((format) => format.createParser(options)));
}

function composite(parsers: ReportParser[], activeAt = -1): ReportParser {
  let active = activeAt;
  const open = (): ReportParser | null => (active === -1 ? null : parsers[active]!);

  function offer(line: ReportLine, except: number): ParserEvent[] {
    const events: ParserEvent[] = [];
    for (const [index, parser] of parsers.entries()) {
      if (index === except) continue;
      events.push(...parser.push(line));
      if (!parser.idle) {
        active = index;
        break;
      }
    }
    return events;
  }

  return {
    get idle() {
      return open() === null;
    },
    get openAt() {
      return open()?.openAt ?? null;
    },
    get progress() {
      return open()?.progress ?? 0;
    },
    fork() {
      return composite(
        parsers.map((parser) => parser.fork()),
        active,
      );
    },
    push(line) {
      const parser = open();
      if (parser === null) return offer(line, -1);
      const events = parser.push(line);
      if (!parser.idle) return events;
      const ended = active;
      active = -1;
      return [...events, ...offer(line, ended)];
    },
    end() {
      const parser = open();
      active = -1;
      return parser?.end() ?? [];
    },
  };
}
