import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { racewatchAsync } from './support/cli.js';
import { startGitlabStandin, type GitlabStandin } from './support/gitlab-standin.js';

let standin: GitlabStandin;
let env: Record<string, string>;
beforeEach(async () => {
  standin = await startGitlabStandin();
  env = {
    GITLAB_URL: standin.url,
    GITLAB_TOKEN: standin.token,
    GITLAB_PROJECT: 'soak/svc',
    RACEWATCH_STATE_DIR: mkdtempSync(path.join(tmpdir(), 'racewatch-cli-state-')),
    RACEWATCH_HOST: 'soak-9',
  };
});
afterEach(async () => {
  await standin.close();
});

describe('racewatch scan with GitLab configured', () => {
  it('files the samples as one issue per fingerprint, and a repeat scan files and comments nothing', async () => {
    const dry = await racewatchAsync(['scan', 'samples/'], {});
    const distinct = Number(/(\d+) distinct race/.exec(dry.stdout)![1]);
    // The corpus has more bugs than the default cap of new issues per run: allow exactly one issue per fingerprint.
    env.RACEWATCH_MAX_NEW_ISSUES = String(distinct);
    const first = await racewatchAsync(['scan', 'samples/'], env);
    expect(first.status).toBe(0);
    expect(first.stdout).toContain(`filed ${distinct} new issue(s), commented 0 time(s)`);
    expect(standin.issues(42)).toHaveLength(distinct);
    expect(standin.issues(42).every((issue) => issue.labels.includes('race'))).toBe(true);
    const second = await racewatchAsync(['scan', 'samples/'], env);
    expect(second.status).toBe(0);
    expect(second.stdout).toContain('filed 0 new issue(s), commented 0 time(s)');
    expect(standin.issues(42)).toHaveLength(distinct);
  });

  it('--dry-run sends nothing to GitLab and prints what it would file', async () => {
    const result = await racewatchAsync(['scan', '--dry-run', 'samples/logs/struct-field.log'], env);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^Dry run/);
    expect(standin.requests).toHaveLength(0);
  });

  it('a half-configured GitLab is an error naming the missing setting, never a silent dry run', async () => {
    const { GITLAB_PROJECT: _omitted, ...withoutProject } = env;
    const result = await racewatchAsync(['scan', 'samples/logs/struct-field.log'], withoutProject);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('GITLAB_PROJECT is not set');
    expect(standin.requests).toHaveLength(0);
  });

  it('reads the token from GITLAB_TOKEN_FILE', async () => {
    const { GITLAB_TOKEN: _token, ...rest } = env;
    const tokenFile = path.join(env.RACEWATCH_STATE_DIR!, 'token');
    (await import('node:fs')).writeFileSync(tokenFile, `${standin.token}\n`);
    const result = await racewatchAsync(['scan', 'samples/logs/struct-field.log'], { ...rest, GITLAB_TOKEN_FILE: tokenFile });
    expect(result.status).toBe(0);
    expect(standin.issues(42)).toHaveLength(1);
  });
});
