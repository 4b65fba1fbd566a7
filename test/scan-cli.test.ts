import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, jsonLines, racewatch } from './support/cli.js';
import { watchForStackTraces } from './support/stack-trace-guard.js';
import { loadManifest, SAMPLES_DIR } from './support/samples.js';

const manifest = loadManifest();
const scratch = mkdtempSync(path.join(tmpdir(), 'racewatch-cli-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const realWithRaces = manifest.find((e) => e.derivedFrom === null && e.reports >= 2 && e.truncated === 0)!;
const withoutRaces = manifest.find((e) => e.reports === 0 && e.derivedFrom === null) ?? manifest.find((e) => e.reports === 0)!;
const gzipped = manifest.find((e) => e.file.endsWith('.gz'))!;
const samplePath = (file: string) => path.join('samples', file);

describe('racewatch scan (dry run)', () => {
  it('prints one entry per fingerprint with title, count and places, and nothing else on stdout', () => {
    const result = racewatch(['scan', 'samples/']);
    expect(result.status).toBe(0);
    const total = manifest.reduce((sum, e) => sum + e.reports, 0);
    expect(result.stdout).toMatch(
      new RegExp(`^Dry run \\(GitLab not configured\\): ${total} race report\\(s\\), \\d+ distinct race\\(s\\); nothing was filed\\.`),
    );
    const entries = result.stdout.match(/^\d+\. would file: Data race: .+ \/ .+$/gm) ?? [];
    const distinct = Number(/(\d+) distinct/.exec(result.stdout)![1]);
    expect(entries).toHaveLength(distinct);
    expect(result.stdout).toMatch(/seen \d+ time\(s\): samples\/\S+:\d+/);
    expect(result.stdout).not.toContain('"level"');
  });

  it('accepts --dry-run and reports the same thing', () => {
    const plain = racewatch(['scan', samplePath(realWithRaces.file)]);
    const forced = racewatch(['scan', '--dry-run', samplePath(realWithRaces.file)]);
    expect(forced.status).toBe(0);
    expect(forced.stdout).toBe(plain.stdout);
  });
});

describe('racewatch scan --json', () => {
  it('writes one JSON object per occurrence in input order, with the documented fields', () => {
    const result = racewatch(['scan', '--json', samplePath(realWithRaces.file)]);
    expect(result.status).toBe(0);
    const objects = jsonLines(result.stdout);
    expect(objects).toHaveLength(realWithRaces.reports);
    for (const object of objects) {
      expect(Object.keys(object)).toEqual(expect.arrayContaining(['id', 'fingerprint', 'kind', 'lineage', 'title', 'source', 'line', 'truncated', 'text']));
      expect(object.fingerprint).toMatch(/^gorace-v2:[0-9a-f]{64}$/);
      expect(object.kind).toBe('complete');
      expect(object.lineage).toEqual([expect.stringMatching(/^gorace-v1:[0-9a-f]{64}$/)]);
      expect(object.source).toBe(samplePath(realWithRaces.file));
    }
    const lines = objects.map((o) => o.line as number);
    expect([...lines].sort((a, b) => a - b)).toEqual(lines);
  });

  it('reads standard input when the path is -', () => {
    const input = readFileSync(path.join(SAMPLES_DIR, realWithRaces.file));
    const fromStdin = jsonLines(racewatch(['scan', '--json', '-'], { input }).stdout);
    const fromFile = jsonLines(racewatch(['scan', '--json', samplePath(realWithRaces.file)]).stdout);
    expect(fromStdin.map((o) => o.id)).toEqual(fromFile.map((o) => o.id));
    expect(fromStdin[0]!.source).toBe('-');
  });

  it('reads gzip-rotated logs, giving the same occurrence ids as the uncompressed log', () => {
    const fromGzip = jsonLines(racewatch(['scan', '--json', samplePath(gzipped.file)]).stdout);
    const fromPlain = jsonLines(racewatch(['scan', '--json', samplePath(gzipped.derivedFrom!)]).stdout);
    expect(fromGzip).toHaveLength(gzipped.reports);
    expect(fromGzip.map((o) => o.id)).toEqual(fromPlain.map((o) => o.id));
  });

  it('expands a quoted glob itself', () => {
    const result = racewatch(['scan', '--json', 'samples/logs/*.log']);
    expect(result.status).toBe(0);
    const sources = new Set(jsonLines(result.stdout).map((o) => o.source));
    expect(sources.size).toBeGreaterThan(1);
    for (const source of sources) expect(source).toMatch(/^samples\/logs\/[^/]+\.log$/);
  });
});

describe('exit codes and errors', () => {
  it('--exit-code exits 1 when races were found and 0 when none were', () => {
    expect(racewatch(['scan', '--exit-code', samplePath(realWithRaces.file)]).status).toBe(1);
    expect(racewatch(['scan', '--exit-code', samplePath(withoutRaces.file)]).status).toBe(0);
  });

  it('a missing file exits 2 with a message naming it, and the other files are still scanned', () => {
    const result = racewatch(['scan', '--json', 'no/such/file.log', samplePath(realWithRaces.file)]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('no/such/file.log: no such file or directory');
    expect(jsonLines(result.stdout)).toHaveLength(realWithRaces.reports);
  });

  it('a glob that matches nothing is an input error', () => {
    const result = racewatch(['scan', 'samples/nothing-here-*.log']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('samples/nothing-here-*.log: no file matches this pattern');
  });

  it('a gzip file cut short exits 2 naming the file and keeps the reports read before the damage', () => {
    const whole = readFileSync(path.join(SAMPLES_DIR, gzipped.file));
    const damaged = path.join(scratch, 'damaged.log.gz');
    writeFileSync(damaged, whole.subarray(0, Math.floor(whole.length * 0.9)));
    const result = racewatch(['scan', '--json', damaged]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`${damaged}:`);
    expect(result.stderr).toContain('reports found before this point were kept');
  });

  it('a bad setting exits 2 with a message naming the variable', () => {
    const result = racewatch(['scan', samplePath(realWithRaces.file)], { env: { RACEWATCH_FINGERPRINT_DEPTH: 'deep' } });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('RACEWATCH_FINGERPRINT_DEPTH');
    expect(result.stdout).toBe('');
  });

  it('a bad regular expression option exits 2 naming the option', () => {
    const result = racewatch(['scan', '--line-prefix', '(unclosed', samplePath(realWithRaces.file)]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('--line-prefix');
  });

  it('an unknown option or a missing path is a usage error (exit 2)', () => {
    expect(racewatch(['scan', '--frobnicate', 'x.log']).status).toBe(2);
    expect(racewatch(['scan']).status).toBe(2);
  });

  it('--help documents every option and exits 0', () => {
    const result = racewatch(['scan', '--help']);
    expect(result.status).toBe(0);
    for (const option of [
      '--json',
      '--dry-run',
      '--exit-code',
      '--progress',
      '--config',
      '--line-prefix',
      '--max-line-bytes',
      '--fingerprint-depth',
      '--skip-function',
      '--app-module',
      '--log-level',
    ]) {
      expect(result.stdout).toContain(option);
    }
  });
});

describe('hostile input', () => {
  it('a line longer than the cap is cut and logged with its place, and the report after it is still found', () => {
    const file = path.join(scratch, 'huge-line.log');
    const report = readFileSync(path.join(SAMPLES_DIR, realWithRaces.file));
    writeFileSync(file, Buffer.concat([Buffer.from('start\n'), Buffer.alloc(3 * 1024 * 1024, 'z'), Buffer.from('\n'), report]));
    const result = racewatch(['scan', '--json', '--max-line-bytes', '65536', file]);
    expect(result.status).toBe(0);
    expect(jsonLines(result.stdout)).toHaveLength(realWithRaces.reports);
    expect(result.stderr).toContain(`${file}:2: line longer than 65536 bytes`);
  });

  it('progress, when asked for, goes to stderr and never to stdout', () => {
    const file = path.join(scratch, 'copy.log');
    copyFileSync(path.join(SAMPLES_DIR, realWithRaces.file), file);
    const result = racewatch(['scan', '--json', '--progress', file]);
    expect(result.stderr).toMatch(/racewatch: scanned .* of .* \(\d+%\)/);
    expect(jsonLines(result.stdout)).toHaveLength(realWithRaces.reports);
  });
});

describe('GORACE log_path files', () => {
  // Two processes of one build can print byte-identical reports; a copy under another pid models that.
  const dir = path.join(scratch, 'gorace');
  const raceLog = path.join(SAMPLES_DIR, 'logs/gorace-log-path/race.1');
  const idsOf = (env: Record<string, string> = {}) =>
    jsonLines(racewatch(['scan', '--json', path.join(dir, 'race.1234'), path.join(dir, 'race.5678')], { env }).stdout).map((o) => o.id as string);

  it('with RACEWATCH_GORACE_LOG_PATHS, identical reports of two processes are two sightings each', () => {
    mkdirSync(dir, { recursive: true });
    copyFileSync(raceLog, path.join(dir, 'race.1234'));
    copyFileSync(raceLog, path.join(dir, 'race.5678'));
    const plain = idsOf();
    expect(new Set(plain).size).toBe(plain.length / 2);
    const perProcess = idsOf({ RACEWATCH_GORACE_LOG_PATHS: path.join(dir, 'race') });
    expect(perProcess).toHaveLength(plain.length);
    expect(new Set(perProcess).size).toBe(perProcess.length);
  });

  it('ids of files that are not log_path files stay as they were', () => {
    const sample = samplePath(realWithRaces.file);
    const before = jsonLines(racewatch(['scan', '--json', sample]).stdout).map((o) => o.id);
    const after = jsonLines(racewatch(['scan', '--json', sample], { env: { RACEWATCH_GORACE_LOG_PATHS: path.join(dir, 'race') } }).stdout).map((o) => o.id);
    expect(after).toEqual(before);
  });
});

describe('files that are not logs', () => {
  const dir = path.join(scratch, 'special');
  const run = (args: string[]) => {
    const result = spawnSync(process.execPath, [CLI, 'scan', ...args], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, LOG_LEVEL: 'info' } });
    watchForStackTraces(`racewatch scan ${args.join(' ')}`, () => `${result.stdout}\n${result.stderr}`);
    return result;
  };

  it('a glob matching a link to /dev/zero and a directory holding a FIFO: both skipped with a warning, the logs beside them read', () => {
    mkdirSync(dir, { recursive: true });
    copyFileSync(path.join(SAMPLES_DIR, realWithRaces.file), path.join(dir, 'svc.log'));
    symlinkSync('/dev/zero', path.join(dir, 'svc.log.zero'));
    execFileSync('mkfifo', [path.join(dir, 'svc.log.fifo')]);
    for (const spec of [path.join(dir, 'svc.log*'), dir]) {
      const result = run(['--json', spec]);
      expect(result.error, 'the scan ended').toBeUndefined();
      expect(result.status).toBe(0);
      expect(jsonLines(result.stdout)).toHaveLength(realWithRaces.reports);
      expect(result.stderr).toMatch(/svc\.log\.zero: a device, not a regular file: skipped/);
    }
    expect(run(['--json', dir]).stderr).toMatch(/svc\.log\.fifo: a FIFO, not a regular file: skipped/);
  });

  it('a FIFO or a device named on the command line is refused with exit 2 and one line', () => {
    for (const target of [path.join(dir, 'svc.log.fifo'), '/dev/zero']) {
      const result = run([target]);
      expect(result.error, 'the scan ended').toBeUndefined();
      expect(result.status).toBe(2);
      expect(result.stderr).toMatch(/not a regular file, directory or glob/);
      expect(result.stderr).not.toMatch(/^\s+at /m);
    }
  });
});
