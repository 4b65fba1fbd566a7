import { appendFileSync, mkdtempSync, readFileSync, renameSync, copyFileSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLOCK_SLACK_MS } from '../src/source/generations.js';
import { jsonLines, racewatchAsync } from './support/cli.js';
import { startGitlabStandin, type GitlabStandin } from './support/gitlab-standin.js';
import { SAMPLES_DIR } from './support/samples.js';

/** The three process lifetimes of a real soak log (3 reports each), to append one at a time as a service would. */
const soak = readFileSync(path.join(SAMPLES_DIR, 'logs/soakd-restarts.log'), 'utf8').split('\n');
const lifetimes = [soak.slice(0, 78), soak.slice(78, 156), soak.slice(156, 234)].map((lines) => `${lines.join('\n')}\n`);
const REPORTS_PER_LIFETIME = 3;

let standin: GitlabStandin;
let dir: string;
let env: Record<string, string>;
beforeEach(async () => {
  standin = await startGitlabStandin();
  dir = mkdtempSync(path.join(tmpdir(), 'racewatch-sweep-'));
  env = {
    GITLAB_URL: standin.url,
    GITLAB_TOKEN: standin.token,
    GITLAB_PROJECT: 'soak/svc',
    RACEWATCH_STATE_DIR: path.join(dir, 'state'),
    RACEWATCH_PATHS: path.join(dir, 'logs', 'soakd.log*'),
    RACEWATCH_REPORT_TIMEOUT: '1h',
  };
  (await import('node:fs')).mkdirSync(path.join(dir, 'logs'));
});
afterEach(async () => {
  await standin.close();
});

const log = (name = 'soakd.log') => path.join(dir, 'logs', name);
async function sweep(extra: Record<string, string> = {}, args: string[] = []) {
  const result = await racewatchAsync(['sweep', '--json', ...args], { ...env, ...extra });
  expect(result.status, result.stderr).toBe(0);
  return { ...result, reports: jsonLines(result.stdout) };
}

describe('racewatch sweep', () => {
  it('reads each log once: a second sweep reads only what was appended since the first', async () => {
    writeFileSync(log(), lifetimes[0]!);
    const first = await sweep();
    expect(first.reports).toHaveLength(REPORTS_PER_LIFETIME);
    appendFileSync(log(), lifetimes[1]!);
    const second = await sweep();
    expect(second.reports).toHaveLength(REPORTS_PER_LIFETIME);
    expect(second.reports.map((r) => r.line as number).every((line) => line > 78)).toBe(true);
    expect((await sweep()).reports).toHaveLength(0);
  });

  it('rename rotation: what the writer still appends to the renamed file and what goes to the new file are each read once', async () => {
    writeFileSync(log(), lifetimes[0]!);
    await sweep();
    renameSync(log(), log('soakd.log.1'));
    appendFileSync(log('soakd.log.1'), lifetimes[1]!);
    writeFileSync(log(), lifetimes[2]!);
    const after = await sweep();
    expect(after.reports).toHaveLength(2 * REPORTS_PER_LIFETIME);
    expect(
      after.reports
        .filter((r) => r.source === log('soakd.log.1'))
        .map((r) => r.line as number)
        .every((line) => line > 78),
    ).toBe(true);
  });

  it('a report split across a rename rotation between two sweeps is filed once, whole, as the daemon files it', async () => {
    const lines = lifetimes[0]!.split('\n');
    // The second report's head (its marker and first access) before the rotation, the rest after it.
    const cut = lines.findIndex((line, i) => i > 30 && line.startsWith('Previous'));
    writeFileSync(log(), `${lines.slice(0, cut).join('\n')}\n`);
    const first = await sweep();
    expect(first.reports).toHaveLength(1);
    // The writer reopened its path: the rest of the report is at the start of the new file.
    renameSync(log(), log('soakd.log.1'));
    writeFileSync(log(), lines.slice(cut).join('\n'));
    const second = await sweep();
    writeFileSync(path.join(dir, 'whole.log'), lifetimes[0]!);
    const expected = jsonLines((await racewatchAsync(['scan', '--json', path.join(dir, 'whole.log')], {})).stdout).map((r) => r.fingerprint);
    expect(expected).toHaveLength(REPORTS_PER_LIFETIME);
    expect([...first.reports, ...second.reports].map((r) => r.fingerprint)).toEqual(expected);
    expect(second.reports.every((r) => r.truncated === false)).toBe(true);
    // The renamed file gave its report away: once nobody writes to it, it files no truncated copy of it.
    const old = new Date(Date.now() - 60_000);
    utimesSync(log('soakd.log.1'), old, old);
    expect((await sweep({ RACEWATCH_REPORT_TIMEOUT: '10s' })).reports).toHaveLength(0);
  });

  describe('a single-file path (RACEWATCH_PATHS=soakd.log): its rotated generations are found as its siblings', () => {
    const single = () => ({ RACEWATCH_PATHS: log() });

    it('the tail the writer added to the renamed file, and a generation born and rotated away between two sweeps, are read once', async () => {
      writeFileSync(log('soakd.log-20261101'), lifetimes[2]!); // there before the first sweep: not this sweep's to read
      await sleep(CLOCK_SLACK_MS + 50);
      writeFileSync(log(), lifetimes[0]!);
      expect((await sweep(single())).reports).toHaveLength(REPORTS_PER_LIFETIME);
      appendFileSync(log(), lifetimes[1]!);
      renameSync(log(), log('soakd.log.2'));
      writeFileSync(log(), lifetimes[2]!);
      renameSync(log(), log('soakd.log.1'));
      writeFileSync(log(), '');
      const after = await sweep(single());
      expect(after.reports.map((r) => path.basename(String(r.source))).sort()).toEqual([
        ...Array(REPORTS_PER_LIFETIME).fill('soakd.log.1'),
        ...Array(REPORTS_PER_LIFETIME).fill('soakd.log.2'),
      ]);
      expect(after.reports.filter((r) => r.source === log('soakd.log.2')).every((r) => (r.line as number) > 78)).toBe(true);
      expect((await sweep(single())).reports).toHaveLength(0);
    });

    it('a report whose rest the new file does not hold yet at the next sweep is filed whole by the sweep after', async () => {
      const lines = lifetimes[0]!.split('\n');
      const cut = lines.findIndex((line, i) => i > 30 && line.startsWith('Previous'));
      writeFileSync(log(), `${lines.slice(0, cut).join('\n')}\n`);
      expect((await sweep(single())).reports).toHaveLength(1);
      renameSync(log(), log('soakd.log.1'));
      writeFileSync(log(), '');
      // The renamed file went quiet long ago, but the new file is still written: the report waits.
      const old = new Date(Date.now() - 60_000);
      utimesSync(log('soakd.log.1'), old, old);
      expect((await sweep({ ...single(), RACEWATCH_REPORT_TIMEOUT: '10s' })).reports).toHaveLength(0);
      appendFileSync(log(), lines.slice(cut).join('\n'));
      const later = await sweep({ ...single(), RACEWATCH_REPORT_TIMEOUT: '10s' });
      expect(later.reports).toHaveLength(REPORTS_PER_LIFETIME - 1);
      expect(later.reports.every((r) => r.truncated === false)).toBe(true);
      expect(later.reports[0]!.source).toBe(log('soakd.log.1'));
    });
  });

  it('copytruncate: the copy is recognised by content and only the new content of the truncated file is read', async () => {
    writeFileSync(log(), lifetimes[0]!);
    await sweep();
    copyFileSync(log(), log('soakd.log.1'));
    truncateSync(log(), 0);
    appendFileSync(log(), lifetimes[1]!);
    const after = await sweep();
    expect(after.reports).toHaveLength(REPORTS_PER_LIFETIME);
    expect(after.reports.every((r) => r.source === log())).toBe(true);
  });

  it('a rotated file compressed to .gz is never read twice', async () => {
    writeFileSync(log(), lifetimes[0]!);
    await sweep();
    writeFileSync(log('soakd.log.1.gz'), gzipSync(readFileSync(log())));
    truncateSync(log(), 0);
    (await import('node:fs')).rmSync(log());
    writeFileSync(log(), lifetimes[1]!);
    const after = await sweep();
    expect(after.reports).toHaveLength(REPORTS_PER_LIFETIME);
    expect(after.reports.every((r) => r.source === log())).toBe(true);
  });

  it('a file rewritten in place, same start, longer than the saved position, is noticed by the bytes before the position and read from its start', async () => {
    writeFileSync(log(), lifetimes[0]!);
    await sweep();
    const lines = lifetimes[0]!.split('\n');
    const last = lines.length - 3;
    lines[last] = lines[last]!.replace(/\d/, (digit) => String((Number(digit) + 1) % 10));
    writeFileSync(log(), lines.join('\n') + lifetimes[1]!);
    const after = await sweep();
    expect(after.stderr).toContain('the bytes before the saved position changed');
    expect(after.reports).toHaveLength(2 * REPORTS_PER_LIFETIME);
  });

  it('a file rewritten in place with new content from its first byte is read from its start', async () => {
    writeFileSync(log(), lifetimes[0]!);
    await sweep();
    writeFileSync(log(), lifetimes[1]! + lifetimes[2]!);
    expect((await sweep()).reports).toHaveLength(2 * REPORTS_PER_LIFETIME);
  });

  it('a report still being written at the end of the log is read whole by the next sweep, once', async () => {
    const lines = lifetimes[0]!.split('\n');
    const cut = lines.findIndex((line, i) => i > 30 && line.startsWith('Previous'));
    writeFileSync(log(), `${lines.slice(0, cut + 2).join('\n')}\n`);
    const first = await sweep();
    appendFileSync(log(), `${lines.slice(cut + 2).join('\n')}`);
    const second = await sweep();
    expect(first.reports.length + second.reports.length).toBe(REPORTS_PER_LIFETIME);
    expect([...first.reports, ...second.reports].every((r) => r.truncated === false)).toBe(true);
  });

  it('a report cut off in a log nobody writes to any more is filed as truncated after the report timeout', async () => {
    const lines = lifetimes[0]!.split('\n');
    const cut = lines.findIndex((line, i) => i > 30 && line.startsWith('Previous'));
    writeFileSync(log(), `${lines.slice(0, cut + 2).join('\n')}\n`);
    const old = new Date(Date.now() - 60_000);
    utimesSync(log(), old, old);
    const result = await sweep({ RACEWATCH_REPORT_TIMEOUT: '10s' });
    expect(result.reports.filter((r) => r.truncated)).toHaveLength(1);
    expect((await sweep({ RACEWATCH_REPORT_TIMEOUT: '10s' })).reports).toHaveLength(0);
  });

  it('--dry-run reads from the saved positions but never moves them', async () => {
    writeFileSync(log(), lifetimes[0]!);
    const dry1 = await sweep({}, ['--dry-run']);
    const dry2 = await sweep({}, ['--dry-run']);
    expect(dry1.reports).toHaveLength(REPORTS_PER_LIFETIME);
    expect(dry2.reports).toHaveLength(REPORTS_PER_LIFETIME);
    expect(standin.requests).toHaveLength(0);
  });

  it('RACEWATCH_START_AT=end skips what existing logs already hold on first contact, then reads what is added', async () => {
    writeFileSync(log(), lifetimes[0]!);
    expect((await sweep({ RACEWATCH_START_AT: 'end' })).reports).toHaveLength(0);
    appendFileSync(log(), lifetimes[1]!);
    const next = await sweep({ RACEWATCH_START_AT: 'end' });
    expect(next.reports).toHaveLength(REPORTS_PER_LIFETIME);
    expect(next.reports[0]!.line).toBeGreaterThan(78);
  });

  it('files what it reads in GitLab: one issue per race across all sweeps', async () => {
    writeFileSync(log(), lifetimes[0]!);
    await sweep();
    appendFileSync(log(), lifetimes[1]!);
    await sweep();
    expect(standin.issues(42)).toHaveLength(2);
    expect(standin.issues(42).every((issue) => standin.notes(42, issue.iid).length === 1)).toBe(true);
  });

  it('a corrupt positions file stops the sweep with exit 2 naming the file', async () => {
    writeFileSync(log(), lifetimes[0]!);
    (await import('node:fs')).mkdirSync(env.RACEWATCH_STATE_DIR!, { recursive: true });
    writeFileSync(path.join(env.RACEWATCH_STATE_DIR!, 'files.json'), '{"schema":1,"fi');
    const result = await racewatchAsync(['sweep'], env);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('files.json');
    expect(standin.issues(42)).toHaveLength(0);
  });

  it('without paths on the command line or in RACEWATCH_PATHS it is a usage error', async () => {
    const { RACEWATCH_PATHS: _paths, ...rest } = env;
    const result = await racewatchAsync(['sweep'], rest);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('RACEWATCH_PATHS');
  });
});
