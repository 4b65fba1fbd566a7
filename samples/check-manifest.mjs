#!/usr/bin/env node
// check-manifest.mjs: verifies samples/manifest.json against the files in
// samples/logs. Node 20, no dependencies. Exit status 1 on any mismatch.
//
//   node samples/check-manifest.mjs          # check
//   node samples/check-manifest.mjs --print  # print what the logs contain
//                                            # (counts, racing functions) as
//                                            # JSON, to help update the manifest
//
// Checks, for every entry:
//   - non-derived files: the number of lines exactly equal to
//     "WARNING: DATA RACE" equals `reports` (for the go test -json log,
//     counted in the decoded "Output" text, since the raw file is JSON);
//   - derived files: reports/truncated/bugs/racingFunctions equal what
//     derive.mjs says the derivation must give, computed from the manifest
//     entry of the source log;
//   - every file: a small independent report reader (below) finds `reports`
//     reports, `truncated` of them without closing separator, and the
//     `racingFunctions` of the manifest, in order;
//   - goVersion: every entry names the Go release that printed the log; a
//     log named <stem>.go1.NN.log was printed by go1.NN.x, a derived file
//     has its source's version;
//   - labels: each pair of racing functions names exactly one label, across
//     all files; a label has one pair per Go version (Go renames closures
//     between releases), where an access that Go printed starting in
//     sync/atomic counts by that atomic function (see atomicCanonical);
//   - every file in logs/ is listed, every listed file exists.

import { readFileSync, readdirSync, statSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import path from 'node:path';
import { DERIVATIONS, MARKER, SEP, HERE } from './derive.mjs';

// ---- unwrapping: file bytes -> the lines the Go program printed ----------

function splitLF(text) {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

const UNWRAP = {
  plain(buf) {
    const t = buf.toString('utf8');
    if (t.includes('\r')) throw new Error('CR in a plain file');
    return splitLF(t);
  },
  crlf(buf) {
    const t = buf.toString('utf8');
    if (!t.endsWith('\r\n') || /[^\r]\n/.test(t)) throw new Error('not CRLF throughout');
    return splitLF(t.replace(/\r\n/g, '\n'));
  },
  syslog(buf) {
    return UNWRAP.plain(buf).map((l) => {
      const m = /^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ [^\s:[]+\[\d+\]: (.*)$/.exec(l);
      if (!m) throw new Error(`not a syslog line: ${l}`);
      return m[1];
    });
  },
  rfc3339(buf) {
    return UNWRAP.plain(buf).map((l) => {
      const m = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z (.*)$/.exec(l);
      if (!m) throw new Error(`not an RFC 3339 prefixed line: ${l}`);
      return m[2];
    });
  },
  'docker-json'(buf) {
    return UNWRAP.plain(buf).map((l) => {
      const o = JSON.parse(l);
      if (typeof o.log !== 'string' || !o.log.endsWith('\n')) throw new Error(`bad docker line: ${l}`);
      return o.log.slice(0, -1);
    });
  },
  cri(buf) {
    const out = [];
    let partial = '';
    for (const l of UNWRAP.plain(buf)) {
      const m = /^\S+Z (stdout|stderr) (P|F) (.*)$/.exec(l);
      if (!m) throw new Error(`not a CRI line: ${l}`);
      partial += m[3];
      if (m[2] === 'F') {
        out.push(partial);
        partial = '';
      }
    }
    return out;
  },
  'go-test-json'(buf) {
    let text = '';
    for (const l of UNWRAP.plain(buf)) {
      const o = JSON.parse(l);
      if (o.Action === 'output') text += o.Output;
    }
    return splitLF(text);
  },
  gzip(buf) {
    return UNWRAP.plain(gunzipSync(buf));
  },
  binary(buf) {
    return splitLF(buf.toString('latin1'));
  },
};

// ---- a small, independent reader of Go race reports ----------------------
// A report starts at a line equal to MARKER and counts only if an access
// header ("Read at 0x.. by goroutine N:" etc.) follows. Lines that fit no
// rule of the grammar (foreign writers) are skipped. It ends at the closing
// separator; if another marker or the end of input comes first, it is
// truncated.

const ACCESS = /^(Read|Write|Previous read|Previous write) at 0x[0-9a-f]+ by (goroutine \d+|main goroutine):$/;
const CREATED = /^Goroutine \d+ \((running|finished)\) created at:$/;
const FUNC = /^ {2}(\S.*)\(\)$/;
const LOC = /^ {6}(\S.*):\d+( \+0x[0-9a-f]+)?$/;

function isApplication(fn) {
  if (fn.startsWith('main.')) return true;
  const first = fn.split('/')[0];
  return first.includes('.') && fn.includes('/'); // soak.example/..., github.com/...
}

function readReports(lines) {
  const reports = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== MARKER) continue;
    const sections = [];
    let cur = null;
    let pendingFunc = null;
    let closed = false;
    let j = i + 1;
    for (; j < lines.length; j++) {
      const l = lines[j];
      if (l === MARKER) break;
      if (l === SEP) {
        if (sections.length) {
          closed = true;
          break;
        }
        continue;
      }
      let m;
      if ((m = ACCESS.exec(l))) {
        cur = { kind: 'access', frames: [] };
        sections.push(cur);
      } else if (CREATED.test(l)) {
        cur = { kind: 'created', frames: [] };
        sections.push(cur);
      } else if (cur && (m = FUNC.exec(l))) {
        pendingFunc = m[1];
      } else if (cur && pendingFunc && (m = LOC.exec(l))) {
        cur.frames.push({ func: pendingFunc, autogenerated: m[1] === '<autogenerated>' });
        pendingFunc = null;
      }
      // anything else: blank line, [failed to restore the stack], foreign line
    }
    const accesses = sections.filter((s) => s.kind === 'access');
    if (accesses.length === 0) continue; // a marker with no access: not a report
    const sides = accesses.slice(0, 2).map((s) => {
      const app = s.frames.find((f) => !f.autogenerated && isApplication(f.func));
      const top = s.frames[0]?.func ?? null;
      return { racing: (app ?? s.frames[0])?.func ?? null, atomic: top?.startsWith('sync/atomic.') ? top : null };
    });
    reports.push({
      truncated: !closed,
      racing: sides.map((x) => x.racing).sort(),
      atomicCanonical: sides.map((x) => x.atomic ?? x.racing).sort(),
    });
    i = closed ? j : j - 1;
  }
  return reports;
}

// ---- the check ------------------------------------------------------------

const manifest = JSON.parse(readFileSync(path.join(HERE, 'manifest.json'), 'utf8'));
const errors = [];
const fail = (file, msg) => errors.push(`${file}: ${msg}`);
const eq = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const byFile = new Map(manifest.samples.map((s) => [s.file, s]));
const printOut = [];
const readByFile = new Map();
const GO_VERSION = /^go1\.(\d+)\.\d+$/;

for (const s of manifest.samples) {
  let lines;
  try {
    const unwrap = UNWRAP[s.format];
    if (!unwrap) throw new Error(`unknown format ${s.format}`);
    lines = unwrap(readFileSync(path.join(HERE, s.file)));
  } catch (e) {
    fail(s.file, e.message);
    continue;
  }
  const found = readReports(lines);
  readByFile.set(s.file, found);
  const markers = lines.filter((l) => l === MARKER).length;
  printOut.push({
    file: s.file,
    markers,
    reports: found.length,
    truncated: found.filter((r) => r.truncated).length,
    racingFunctions: found.map((r) => r.racing),
  });

  if (s.bugs.length !== s.reports) fail(s.file, `bugs has ${s.bugs.length} labels, reports is ${s.reports}`);
  if (s.racingFunctions.length !== s.reports) fail(s.file, `racingFunctions has ${s.racingFunctions.length} entries, reports is ${s.reports}`);

  const version = GO_VERSION.exec(s.goVersion ?? '');
  if (!version) fail(s.file, `goVersion ${JSON.stringify(s.goVersion)} is not a Go release like go1.19.8`);
  const named = /\.go1\.(\d+)\.log$/.exec(s.file);
  if (named && version && named[1] !== version[1]) fail(s.file, `the name says go1.${named[1]}, goVersion is ${s.goVersion}`);
  if (s.derivedFrom !== null && byFile.has(s.derivedFrom) && byFile.get(s.derivedFrom).goVersion !== s.goVersion) {
    fail(s.file, `goVersion ${s.goVersion}, its source ${s.derivedFrom} has ${byFile.get(s.derivedFrom).goVersion}`);
  }

  if (s.derivedFrom === null) {
    if (!s.program) fail(s.file, 'non-derived entry without program');
    if (s.file.includes('.derived.')) fail(s.file, 'derived file name but derivedFrom is null');
    if (markers !== s.reports) fail(s.file, `${markers} lines equal "${MARKER}", manifest says ${s.reports} reports`);
  } else {
    if (s.program !== null) fail(s.file, 'derived entry must have program null');
    const d = DERIVATIONS.find((x) => x.file === s.file);
    if (!d) fail(s.file, 'no derivation in derive.mjs produces this file');
    else if (d.from !== s.derivedFrom) fail(s.file, `derivedFrom ${s.derivedFrom}, derive.mjs uses ${d.from}`);
    else if (d.format !== s.format) fail(s.file, `format ${s.format}, derive.mjs says ${d.format}`);
    else {
      const src = byFile.get(d.from);
      if (!src) fail(s.file, `source ${d.from} is not in the manifest`);
      else {
        const want = d.expect(src);
        for (const k of ['reports', 'truncated', 'bugs', 'racingFunctions']) {
          if (!eq(s[k], want[k])) fail(s.file, `${k} is ${JSON.stringify(s[k])}, derivation implies ${JSON.stringify(want[k])}`);
        }
      }
    }
  }

  if (found.length !== s.reports) fail(s.file, `reader found ${found.length} reports, manifest says ${s.reports}`);
  const trunc = found.filter((r) => r.truncated).length;
  if (trunc !== s.truncated) fail(s.file, `reader found ${trunc} truncated, manifest says ${s.truncated}`);
  const racing = found.map((r) => r.racing);
  const sortedManifest = s.racingFunctions.map((p) => [...p].sort());
  if (!eq(sortedManifest, s.racingFunctions)) fail(s.file, 'racingFunctions pairs must be sorted');
  if (!eq(racing, s.racingFunctions)) {
    fail(s.file, `racingFunctions differ from the log:\n    log:      ${JSON.stringify(racing)}\n    manifest: ${JSON.stringify(s.racingFunctions)}`);
  }
}

// Labels and pairs, across all files:
//   - a pair names exactly one label: two different bugs never print the
//     same racing functions;
//   - a label has one pair per Go version. Go renames closures between
//     releases (main.f.func1.1 in go1.19, main.f.func1.f.func1.func2 in
//     go1.21), so one bug may print a different pair in each release, but
//     not two pairs in one. The exception is Go's own: on an access that
//     starts in sync/atomic, the race runtime drops the atomic op's direct
//     caller, so the first application frame is whoever called that caller
//     and changes with the goroutine that ran it. Such an access counts by
//     its atomic function (atomicCanonical) for this rule, not for the pair.
const pairToLabel = new Map();
const labelVersionToCanonical = new Map();
const labels = new Set();
for (const s of manifest.samples) {
  const found = readByFile.get(s.file) ?? [];
  s.bugs.forEach((label, i) => {
    labels.add(label);
    const pair = JSON.stringify(s.racingFunctions[i] ?? null);
    if (pairToLabel.has(pair) && pairToLabel.get(pair) !== label) {
      fail(s.file, `pair ${pair} labelled ${label} here but ${pairToLabel.get(pair)} elsewhere`);
    }
    pairToLabel.set(pair, label);
    const canonical = JSON.stringify(found[i]?.atomicCanonical ?? s.racingFunctions[i] ?? null);
    const key = `${label} ${s.goVersion}`;
    const seen = labelVersionToCanonical.get(key);
    if (seen && seen.canonical !== canonical) {
      fail(s.file, `label ${label} is ${canonical} here but ${seen.canonical} in ${seen.file}, both printed by ${s.goVersion}`);
    }
    if (!seen) labelVersionToCanonical.set(key, { canonical, file: s.file });
  });
}

// every file in logs/ is in the manifest and vice versa
function walk(dir) {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : [path.relative(HERE, p)];
  });
}
const onDisk = new Set(walk(path.join(HERE, 'logs')));
for (const f of onDisk) if (!byFile.has(f)) fail(f, 'file in logs/ is not in manifest.json');
for (const d of DERIVATIONS) if (!byFile.has(d.file)) fail(d.file, 'derive.mjs writes it but manifest.json does not list it');
if (byFile.size !== manifest.samples.length) errors.push('manifest.json lists a file twice');

if (process.argv.includes('--print')) {
  console.log(JSON.stringify(printOut, null, 1));
}
if (errors.length) {
  console.error(`check-manifest.mjs: FAILED, ${errors.length} problem(s):`);
  for (const e of errors) console.error(`  - ${e}`);
  process.exit(1);
}
const total = manifest.samples.reduce((n, s) => n + s.reports, 0);
const versions = new Set(manifest.samples.map((s) => s.goVersion));
console.error(`check-manifest.mjs: OK, ${manifest.samples.length} files, ${total} reports, ${labels.size} distinct bugs, ${versions.size} Go versions`);
