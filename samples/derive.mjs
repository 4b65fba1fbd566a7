#!/usr/bin/env node
// derive.mjs: writes the logs/*.derived.* files from the REAL logs that
// regenerate.sh produced. Node 20, no dependencies. Runnable alone:
//   node samples/derive.mjs
//
// Nothing here invents a race report: every report line comes from a real
// log. A derivation only adds what a log pipeline adds (prefixes, JSON
// envelopes, CRLF, foreign lines, truncation, gzip, surrounding junk).
// The output is deterministic for a given set of real logs (fixed clocks,
// fixed-seed PRNG); only the real logs themselves change between runs.
//
// DERIVATIONS is exported so check-manifest.mjs can compute what each
// derived file must contain from the manifest entry of its source.

import { readFileSync, writeFileSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const MARKER = 'WARNING: DATA RACE';
export const SEP = '==================';
export const HERE = path.dirname(fileURLToPath(import.meta.url));

/** Lines of a real log (LF-terminated, no CR), without the final empty string. */
function readLines(rel) {
  const text = readFileSync(path.join(HERE, rel), 'utf8');
  if (text.includes('\r')) throw new Error(`${rel}: unexpected CR in a real log`);
  const lines = text.split('\n');
  if (lines.at(-1) !== '') throw new Error(`${rel}: does not end with a newline`);
  lines.pop();
  return lines;
}

const joinLines = (lines, eol = '\n') => lines.map((l) => l + eol).join('');

/** A deterministic clock: each tick advances by `stepMs` (+ optional jitter). */
function clock(startIso, stepMs) {
  let t = Date.parse(startIso);
  let n = 0;
  return {
    now: () => t,
    tick(extraMs = 0) {
      n++;
      t += stepMs + ((n * 37) % 11) + extraMs; // small deterministic jitter
      return t;
    },
  };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n, w = 2) => String(n).padStart(w, '0');
function syslogTime(ms) {
  const d = new Date(ms);
  const day = String(d.getUTCDate()).padStart(2, ' ');
  return `${MONTHS[d.getUTCMonth()]} ${day} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}
/** 2026-11-23T06:00:00.123Z (milliseconds). */
const isoMs = (ms) => new Date(ms).toISOString();
/** 2026-11-23T06:00:00.123456789Z (nanoseconds; sub-ms digits are deterministic filler). */
function isoNs(ms, i) {
  const base = new Date(ms).toISOString().slice(0, 23); // ...T06:00:00.123
  return `${base}${pad((i * 7919) % 1000000, 6)}Z`;
}
/** slash-style Go log timestamp: 2026/11/23 06:00:00 */
function goLogTime(ms) {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** JSON string as Docker's json-file driver writes it (Go encoder: <, >, & escaped). */
function dockerJsonString(s) {
  return JSON.stringify(s)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** mulberry32: tiny fixed-seed PRNG for the binary junk. */
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Index ranges [start, end] (inclusive, opening SEP .. closing SEP) of complete reports. */
function reportRanges(lines) {
  const out = [];
  for (let i = 1; i < lines.length; i++) {
    if (lines[i] !== MARKER || lines[i - 1] !== SEP) continue;
    let j = i + 1;
    while (j < lines.length && lines[j] !== SEP) j++;
    if (j === lines.length) throw new Error('unterminated report in a real log');
    out.push([i - 1, j]);
    i = j;
  }
  return out;
}

const FOREIGN = [
  'http: request served in 3ms',
  'http: TLS handshake error from 10.0.4.17:51234: EOF',
  'cache: refreshed 128 entries',
  'http: request served in 12ms',
  'grpc: addrConn.createTransport failed to connect to {10.0.4.9:9090}: connection refused',
];

// Each derivation: file (relative to samples/), from (its real source log),
// format (how check-manifest unwraps it), what (README/notes text),
// make() -> Buffer|string, expect(src) -> {reports, truncated, bugs,
// racingFunctions} computed from the source's manifest entry.
const same = (src) => ({
  reports: src.reports,
  truncated: src.truncated,
  bugs: src.bugs,
  racingFunctions: src.racingFunctions,
});
const none = () => ({ reports: 0, truncated: 0, bugs: [], racingFunctions: [] });

export const DERIVATIONS = [
  {
    file: 'logs/soakd-restarts-syslog.derived.log',
    from: 'logs/soakd-restarts.log',
    format: 'syslog',
    what:
      'syslog/journald short prefix "Nov 23 06:00:00 soak-3 soakd[PID]: " on every line. ' +
      'PID is the one soakd logged in its own "soakd starting pid=N" line, so it is constant per ' +
      'process lifetime and changes at each of the 3 restarts; seconds advance; blank lines keep ' +
      'the prefix with nothing after it.',
    make() {
      const lines = readLines(this.from);
      const c = clock('2026-11-23T06:00:00.000Z', 180);
      let pid = '4242';
      let lifetimes = 0;
      return joinLines(
        lines.map((l) => {
          const m = /soakd starting pid=(\d+)/.exec(l);
          if (m) {
            pid = m[1];
            if (lifetimes++ > 0) c.tick(4000); // the restart gap
          }
          c.tick();
          return `${syslogTime(c.now())} soak-3 soakd[${pid}]: ${l}`;
        }),
      );
    },
    expect: same,
  },
  {
    file: 'logs/map-race-rfc3339.derived.log',
    from: 'logs/map-race.log',
    format: 'rfc3339',
    what: 'RFC 3339 timestamp prefix "2026-11-23T06:00:00.123Z " on every line (milliseconds advance).',
    make() {
      const c = clock('2026-11-23T06:00:00.123Z', 3);
      return joinLines(readLines(this.from).map((l) => `${isoMs(c.tick())} ${l}`));
    },
    expect: same,
  },
  {
    file: 'logs/method-value-docker.derived.log',
    from: 'logs/method-value.log',
    format: 'docker-json',
    what:
      'Docker json-file driver: one {"log":"<line>\\n","stream":...,"time":...} object per line, ' +
      'escaped like Docker\'s Go encoder (so "<autogenerated>" becomes "\\u003cautogenerated\\u003e"). ' +
      'Lines the program printed with fmt ("ticker: ...") are stream "stdout", all others "stderr".',
    make() {
      const c = clock('2026-11-23T06:00:00.000Z', 1);
      return joinLines(
        readLines(this.from).map((l, i) => {
          const stream = l.startsWith('ticker: ') ? 'stdout' : 'stderr';
          return `{"log":${dockerJsonString(`${l}\n`)},"stream":"${stream}","time":"${isoNs(c.tick(), i)}"}`;
        }),
      );
    },
    expect: same,
  },
  {
    file: 'logs/two-callers-reversed-cri.derived.log',
    from: 'logs/two-callers-reversed.log',
    format: 'cri',
    what:
      'CRI (kubelet) format "2026-11-23T06:00:00.123456789Z stderr F <line>" on every line; ' +
      'lines the program printed with fmt ("ledger: ...") are "stdout". All records are full (F).',
    make() {
      const c = clock('2026-11-23T06:00:00.000Z', 1);
      return joinLines(
        readLines(this.from).map((l, i) => {
          const stream = l.startsWith('ledger: ') ? 'stdout' : 'stderr';
          return `${isoNs(c.tick(), i)} ${stream} F ${l}`;
        }),
      );
    },
    expect: same,
  },
  {
    file: 'logs/buffer-race-crlf.derived.log',
    from: 'logs/buffer-race.log',
    format: 'crlf',
    what: 'Every LF replaced by CRLF; nothing else changed.',
    make() {
      return joinLines(readLines(this.from), '\r\n');
    },
    expect: same,
  },
  {
    file: 'logs/soakd-interleaved.derived.log',
    from: 'logs/soakd-build-a1.log',
    format: 'plain',
    what:
      'Other writers\' lines ("2026/11/23 06:00:00 http: request served in 3ms" and similar, ' +
      'Go log style) inserted INSIDE every report: after every frame location line (so between ' +
      'frames, and before the closing separator) and after every blank line (between sections).',
    make() {
      const lines = readLines(this.from);
      const c = clock('2026-11-23T06:00:00.000Z', 400);
      const inside = new Set();
      for (const [a, b] of reportRanges(lines)) for (let k = a + 2; k < b; k++) inside.add(k);
      const out = [];
      let n = 0;
      lines.forEach((l, i) => {
        out.push(l);
        if (inside.has(i) && (l.startsWith('      ') || l === '')) {
          out.push(`${goLogTime(c.tick())} ${FOREIGN[n++ % FOREIGN.length]}`);
        }
      });
      return joinLines(out);
    },
    expect: same,
  },
  {
    file: 'logs/struct-field-truncated.derived.log',
    from: 'logs/struct-field.log',
    format: 'plain',
    what:
      'The real log cut right after the first frame (function + location line) of the ' +
      '"Previous write" section of its only report, as if the process was killed: no closing ' +
      'separator, nothing after.',
    make() {
      const lines = readLines(this.from);
      const p = lines.findIndex((l) => /^Previous (read|write) at /.test(l));
      if (p < 0 || !/^ {2}\S.*\(\)$/.test(lines[p + 1]) || !lines[p + 2].startsWith('      ')) {
        throw new Error(`${this.from}: no "Previous ..." section with a frame to cut after`);
      }
      return joinLines(lines.slice(0, p + 3));
    },
    expect: (src) => ({
      reports: 1,
      truncated: 1,
      bugs: [src.bugs[0]],
      racingFunctions: [src.racingFunctions[0]],
    }),
  },
  {
    file: 'logs/orphan-marker.derived.log',
    from: 'logs/soakd-build-a1.log',
    also: 'logs/clean-app.log',
    format: 'plain',
    what:
      'soakd-build-a1.log up to and including its first "WARNING: DATA RACE" line (the process ' +
      'died right after printing the marker: no access follows), then the whole of ' +
      "clean-app.log as the restarted service's normal output.",
    make() {
      const lines = readLines(this.from);
      const m = lines.indexOf(MARKER);
      if (m < 0) throw new Error(`${this.from}: no marker`);
      return joinLines([...lines.slice(0, m + 1), ...readLines(this.also)]);
    },
    expect: none,
  },
  {
    file: 'logs/clean-app-mentions-marker.derived.log',
    from: 'logs/clean-app.log',
    format: 'plain',
    what:
      'clean-app.log with hand-typed application lines that merely MENTION the marker inserted ' +
      '(\'msg="grep for WARNING: DATA RACE in CI"\', a line starting with "WARNING: DATA RACE " ' +
      'followed by more text, a JSON log line quoting it) and an application banner framed by ' +
      '"==================" lines. No report.',
    make() {
      const lines = readLines(this.from);
      const ts = (i) => lines[i].slice(0, 26); // "2026/11/23 10:44:04.897043" of the line before
      const out = [];
      lines.forEach((l, i) => {
        out.push(l);
        if (i === 1) out.push(SEP, 'frontdoor 2.4.1 (race detector build)', SEP);
        if (i === 40) out.push(`${ts(i)} level=info msg="grep for WARNING: DATA RACE in CI"`);
        if (i === 120) out.push('WARNING: DATA RACE detector enabled for this build; expect 5-10x slowdown');
        if (i === 200) out.push(`{"level":"info","msg":"ci summary","pattern":"WARNING: DATA RACE","matches":0}`);
      });
      return joinLines(out);
    },
    expect: none,
  },
  {
    file: 'logs/map-race.derived.log.1.gz',
    from: 'logs/map-race.log',
    format: 'gzip',
    what: 'gzip of the real map-race.log, as logrotate leaves a rotated file (gzip header mtime 0).',
    make() {
      return gzipSync(readFileSync(path.join(HERE, this.from)), { level: 9 });
    },
    expect: same,
  },
  {
    file: 'logs/binary-junk.derived.log',
    from: 'logs/generic-cache.log',
    format: 'binary',
    what:
      '2048 pseudo-random bytes (mulberry32, seed 0x5eed), a newline, the first complete report ' +
      'of generic-cache.log (separator to separator), a newline, 2048 more pseudo-random bytes.',
    make() {
      const lines = readLines(this.from);
      const [a, b] = reportRanges(lines)[0];
      const rnd = mulberry32(0x5eed);
      const junk = (n) => Buffer.from(Array.from({ length: n }, () => Math.floor(rnd() * 256)));
      return Buffer.concat([junk(2048), Buffer.from(`\n${joinLines(lines.slice(a, b + 1))}`, 'utf8'), junk(2048)]);
    },
    expect: (src) => ({
      reports: 1,
      truncated: 0,
      bugs: [src.bugs[0]],
      racingFunctions: [src.racingFunctions[0]],
    }),
  },
];

export function deriveAll({ quiet = false } = {}) {
  const logs = path.join(HERE, 'logs');
  if (!existsSync(logs)) throw new Error('samples/logs does not exist: run regenerate.sh first');
  for (const f of readdirSync(logs)) if (f.includes('.derived.')) rmSync(path.join(logs, f));
  for (const d of DERIVATIONS) {
    const data = d.make();
    writeFileSync(path.join(HERE, d.file), data);
    if (!quiet) console.error(`  ${d.file} (from ${d.from}${d.also ? ` + ${d.also}` : ''})`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    deriveAll();
  } catch (e) {
    console.error(`derive.mjs: ${e.message}`);
    process.exit(1);
  }
}
