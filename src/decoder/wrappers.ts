/**
 * What log pipelines wrap around each line, and how to take it off again. The wrapper is detected per
 * source and remembered, because within one file every line is usually wrapped the same way; a line the
 * remembered wrapper does not fit (another writer) is tried against the others.
 */
export type WrapperName = 'custom' | 'docker-json' | 'go-test-json' | 'cri' | 'syslog' | 'timestamp' | 'none';

export interface Wrapper {
  name: WrapperName;
  /**
   * The inner line, or null when the record carries no complete line: a non-output event, or the first
   * part of a line split over several records (kept until its last part arrives).
   * Undefined when the line is not in this wrapper's shape.
   */
  unwrap(line: string): string | null | undefined;
}

const SYSLOG = /^[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}(?:\.\d+)? \S+ [^\s:[\]]+(?:\[\d+\])?: ?/;
const JOURNAL_ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}) \S+ [^\s:[\]]+(?:\[\d+\])?: ?/;
const TIMESTAMP = /^\[?\d{4}[-/]\d{2}[-/]\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?\]? ?/;
const CRI = /^\d{4}-\d{2}-\d{2}T\S+ (?:stdout|stderr) ([FP]) ?/;
const ANSI_COLOUR = /\x1b\[[0-9;]*m/g;

function prefixWrapper(name: WrapperName, patterns: RegExp[]): Wrapper {
  return {
    name,
    unwrap(line) {
      for (const pattern of patterns) {
        const match = pattern.exec(line);
        if (match) return line.slice(match[0].length);
      }
      return undefined;
    },
  };
}

/** Joins the parts of a line that a transport split over several records (docker 16K, CRI `P`). */
class PartialLine {
  private parts: string[] = [];
  private length = 0;
  constructor(private readonly maxChars: number) {}

  add(part: string, last: boolean): string | null {
    if (this.length < this.maxChars) {
      this.parts.push(part.slice(0, this.maxChars - this.length));
      this.length += part.length;
    }
    if (!last) return null;
    const whole = this.parts.join('');
    this.parts = [];
    this.length = 0;
    return whole;
  }
}

function criWrapper(maxChars: number): Wrapper {
  const partial = new PartialLine(maxChars);
  return {
    name: 'cri',
    unwrap(line) {
      const match = CRI.exec(line);
      if (!match) return undefined;
      return partial.add(line.slice(match[0].length), match[1] === 'F');
    },
  };
}

function parseJsonObject(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** docker json-file: `{"log":"line\n","stream":"stderr","time":...}`; no `\n` means more parts follow. */
function dockerJsonWrapper(maxChars: number): Wrapper {
  const partial = new PartialLine(maxChars);
  return {
    name: 'docker-json',
    unwrap(line) {
      const record = parseJsonObject(line);
      if (!record || typeof record.log !== 'string') return undefined;
      const complete = record.log.endsWith('\n');
      return partial.add(complete ? record.log.slice(0, -1) : record.log, complete);
    },
  };
}

/** `go test -json`: output arrives as `Output` fragments of `output` events, a line ending at `\n`. */
function goTestJsonWrapper(maxChars: number): Wrapper {
  const partial = new PartialLine(maxChars);
  return {
    name: 'go-test-json',
    unwrap(line) {
      const record = parseJsonObject(line);
      if (!record || typeof record.Action !== 'string') return undefined;
      if (record.Action !== 'output' || typeof record.Output !== 'string') return null;
      const complete = record.Output.endsWith('\n');
      return partial.add(complete ? record.Output.slice(0, -1) : record.Output, complete);
    },
  };
}

export interface UnwrapperOptions {
  maxLineChars: number;
  /** A user-supplied prefix to strip (anchored at the start of the line). */
  customPrefix?: RegExp;
}

export interface Unwrapper {
  /** The line's content, or null when the record holds no complete line of content. */
  unwrap(line: string): string | null;
  readonly detected: WrapperName;
}

export function createUnwrapper(options: UnwrapperOptions): Unwrapper {
  const wrappers: Wrapper[] = [
    dockerJsonWrapper(options.maxLineChars),
    goTestJsonWrapper(options.maxLineChars),
    criWrapper(options.maxLineChars),
    prefixWrapper('syslog', [SYSLOG, JOURNAL_ISO]),
    prefixWrapper('timestamp', [TIMESTAMP]),
  ];
  if (options.customPrefix) {
    const anchored = new RegExp(`^(?:${options.customPrefix.source})`, options.customPrefix.flags.replace('g', ''));
    wrappers.unshift(prefixWrapper('custom', [anchored]));
  }
  let remembered: Wrapper | null = null;

  return {
    get detected() {
      return remembered?.name ?? 'none';
    },
    unwrap(raw) {
      const line = raw.includes('\x1b') ? raw.replace(ANSI_COLOUR, '') : raw;
      if (remembered) {
        const inner = remembered.unwrap(line);
        if (inner !== undefined) return clean(inner);
      }
      for (const wrapper of wrappers) {
        if (wrapper === remembered) continue;
        const inner = wrapper.unwrap(line);
        if (inner !== undefined) {
          remembered = wrapper;
          return clean(inner);
        }
      }
      return line;
    },
  };
}

function clean(inner: string | null): string | null {
  if (inner === null) return null;
  const text = inner.endsWith('\r') ? inner.slice(0, -1) : inner;
  return text.includes('\x1b') ? text.replace(ANSI_COLOUR, '') : text;
}
