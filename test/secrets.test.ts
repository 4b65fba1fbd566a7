// Secrets stay secret: a malformed token, credentials in GITLAB_URL or a URL racewatch cannot use are
// refused at start-up with one line that never repeats them; whatever the HTTP layer says about a failure
// goes through one redaction step; a plain http:// GitLab is warned about. All traffic goes to loopback: the
// GitLab stand-in, or a closed port on 127.0.0.1.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { warnIfPlainHttp } from '../src/config/gitlab.js';
import { ConfigError, loadSettings } from '../src/config/settings.js';
import { createGitlabClient, type GitlabConnection } from '../src/sink/gitlab/client.js';
import { redactSecrets, secretsInHeaders } from '../src/sink/gitlab/redact.js';
import { createLogger } from '../src/log/logger.js';
import { racewatchAsync } from './support/cli.js';
import { startGitlabStandin, type GitlabStandin } from './support/gitlab-standin.js';
import { SAMPLES_DIR } from './support/samples.js';
import { PassThrough } from 'node:stream';

const SAMPLE = path.join(SAMPLES_DIR, 'logs/struct-field.log');
const PROJECT = 'soak/svc';

let standin: GitlabStandin;
let dir: string;

beforeEach(async () => {
  standin = await startGitlabStandin();
  dir = mkdtempSync(path.join(tmpdir(), 'racewatch-secrets-'));
});

afterEach(async () => {
  await standin.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The built CLI with only the settings given (and debug logs, so that every log line is checked too). */
function scan(env: Record<string, string>, args: string[] = [SAMPLE]) {
  return racewatchAsync(['scan', ...args], {
    RACEWATCH_STATE_DIR: path.join(dir, 'state'),
    RACEWATCH_GITLAB_RETRIES: '1',
    RACEWATCH_GITLAB_BACKOFF: '1ms',
    RACEWATCH_HOST: 'soak-3',
    LOG_LEVEL: 'debug',
    CREDENTIALS_DIRECTORY: '',
    GITLAB_PROJECT: PROJECT,
    ...env,
  });
}

function tokenFile(content: string): string {
  const file = path.join(dir, `token-${Math.random().toString(16).slice(2)}`);
  writeFileSync(file, content);
  return file;
}

/** A configuration error is exactly one line on stderr, nothing on stdout, and no stack trace. */
function expectOneLineConfigError(result: { status: number; stdout: string; stderr: string }): string {
  expect(result.status).toBe(2);
  expect(result.stdout).toBe('');
  const lines = result.stderr.split('\n').filter((line) => line.length > 0);
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^racewatch: configuration error: /);
  expect(result.stderr).not.toMatch(/^\s+at /m);
  return lines[0]!;
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  return port;
}

// =========================================================================================================

describe('a token that cannot go into a header is refused before any request', () => {
  it('a two-line token file: exit 2, one line naming GITLAB_TOKEN_FILE and the file, neither line of the token shown', async () => {
    const file = tokenFile('glpat-first-line-4c1e9\nsecond-line-77a0b2\n');
    const result = await scan({ GITLAB_URL: standin.url, GITLAB_TOKEN_FILE: file });
    const line = expectOneLineConfigError(result);
    expect(line).toContain('GITLAB_TOKEN_FILE');
    expect(line).toContain(file);
    expect(line).toContain('more than one line');
    for (const part of ['glpat-first-line-4c1e9', 'second-line-77a0b2']) expect(result.stdout + result.stderr).not.toContain(part);
    expect(standin.requests).toEqual([]);
  });

  it('a carriage return or a control character inside the token file is refused the same way', async () => {
    for (const [content, problem] of [
      ['glpat-cr-part-one\rcr-part-two-9f', 'more than one line'],
      ['glpat-esc-part\u001b[2Jesc-tail-31', 'control character'],
      ['glpat-nul-part\u0000nul-tail-58', 'control character'],
      ['glpat-tab-part\ttab-tail-62', 'control character'],
    ] as const) {
      const result = await scan({ GITLAB_URL: standin.url, GITLAB_TOKEN_FILE: tokenFile(content) });
      const line = expectOneLineConfigError(result);
      expect(line).toContain('GITLAB_TOKEN_FILE');
      expect(line).toContain(problem);
      for (const part of content.split(/[\r\u0000\u001b\t]/)) expect(result.stdout + result.stderr).not.toContain(part);
    }
    expect(standin.requests).toEqual([]);
  });

  it('GITLAB_TOKEN with a line break inside: exit 2 naming GITLAB_TOKEN, the token shown nowhere', async () => {
    const result = await scan({ GITLAB_URL: standin.url, GITLAB_TOKEN: 'glpat-env-top-0d3f\nenv-bottom-8e21' });
    const line = expectOneLineConfigError(result);
    expect(line).toContain('GITLAB_TOKEN');
    for (const part of ['glpat-env-top-0d3f', 'env-bottom-8e21']) expect(result.stdout + result.stderr).not.toContain(part);
    expect(standin.requests).toEqual([]);
  });

  it('a systemd credential of two lines is refused too, naming the credential (not taken as "no token")', async () => {
    const credentials = path.join(dir, 'credentials');
    mkdirSync(credentials);
    writeFileSync(path.join(credentials, 'gitlab-token'), 'glpat-cred-one-5a7c\ncred-two-e90b\n');
    const result = await scan({ GITLAB_URL: standin.url, CREDENTIALS_DIRECTORY: credentials });
    const line = expectOneLineConfigError(result);
    expect(line).toContain('systemd credential gitlab-token');
    expect(line).toContain('more than one line');
    for (const part of ['glpat-cred-one-5a7c', 'cred-two-e90b']) expect(result.stdout + result.stderr).not.toContain(part);
    expect(standin.requests).toEqual([]);
  });

  it('trailing newlines and whitespace of a token file are trimmed, and the token works', async () => {
    const result = await scan({ GITLAB_URL: standin.url, GITLAB_TOKEN_FILE: tokenFile(`  ${standin.token}\r\n\n \n`) });
    expect(result.stderr).not.toContain(standin.token);
    expect(result.status).toBe(0);
    expect(standin.issues(42)).toHaveLength(1);
    expect(standin.requests.every((request) => request.headers['private-token'] === standin.token)).toBe(true);
  });
});

describe('GITLAB_URL', () => {
  it('with a user name and password: exit 2 naming GITLAB_URL, the URL shown with *** for them', async () => {
    const port = await closedPort();
    const result = await scan({ GITLAB_URL: `http://racer:hunter2-pw-6b1d@127.0.0.1:${port}/`, GITLAB_TOKEN: standin.token });
    const line = expectOneLineConfigError(result);
    expect(line).toContain('GITLAB_URL');
    expect(line).toContain('GITLAB_TOKEN');
    expect(line).toContain(`http://***@127.0.0.1:${port}/`);
    expect(result.stdout + result.stderr).not.toContain('hunter2-pw-6b1d');
    expect(result.stdout + result.stderr).not.toContain('racer');
    expect(result.stdout + result.stderr).not.toContain(standin.token);
  });

  it('with a user name alone (a token put there) is refused the same way, also from the config file and in a dry run', async () => {
    const viaEnv = await scan({ GITLAB_URL: 'https://glpat-in-url-93ac@gitlab.example.com', GITLAB_TOKEN: 'x' }, ['--dry-run', SAMPLE]);
    expect(expectOneLineConfigError(viaEnv)).toContain('https://***@gitlab.example.com/');
    expect(viaEnv.stderr).not.toContain('glpat-in-url-93ac');

    const config = path.join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ gitlabUrl: 'https://oauth2:glpat-in-config-1f2e@gitlab.example.com' }));
    const viaFile = await scan({ RACEWATCH_CONFIG: config, GITLAB_TOKEN: 'x' });
    const line = expectOneLineConfigError(viaFile);
    expect(line).toContain('"gitlabUrl"');
    expect(viaFile.stderr).not.toContain('glpat-in-config-1f2e');
    expect(viaFile.stderr).not.toContain('oauth2');
  });

  it('a value that is not even a URL is shown with everything before its last @ masked', async () => {
    for (const value of ['https://racer:pass/word-a71@host', 'racer:pass-word-a71@gitlab.example.com', 'gitlab example com racer:pass-word-a71@']) {
      const result = await scan({ GITLAB_URL: value, GITLAB_TOKEN: 'x' });
      const line = expectOneLineConfigError(result);
      expect(line).toContain('GITLAB_URL');
      expect(line).toContain('***@');
      expect(result.stderr).not.toContain('word-a71');
      expect(result.stderr).not.toContain('racer');
    }
  });

  for (const [value, scheme] of [
    ['javascript:alert(document.cookie)', 'javascript:'],
    ['ftp://127.0.0.1:21/gitlab', 'ftp:'],
    ['file:///etc/passwd', 'file:'],
  ] as const) {
    it(`${scheme} is refused with one line saying to use https://, no stack trace, no request`, async () => {
      const result = await scan({ GITLAB_URL: value, GITLAB_TOKEN: standin.token });
      const line = expectOneLineConfigError(result);
      expect(line).toContain('GITLAB_URL');
      expect(line).toContain('https://');
      expect(line).toContain(`not ${scheme}`);
      expect(result.stderr).not.toContain(standin.token);
    });
  }

  it('a query or fragment (where a token could hide) is refused and not shown', async () => {
    const result = await scan({ GITLAB_URL: 'https://gitlab.example.com/?private_token=glpat-query-77', GITLAB_TOKEN: 'x' });
    const line = expectOneLineConfigError(result);
    expect(line).toContain('query');
    expect(line).toContain('https://gitlab.example.com/?***');
    expect(result.stderr).not.toContain('glpat-query-77');
  });

  it('loadSettings accepts http and https GitLab URLs with a path, and refuses the rest with ConfigError', () => {
    expect(loadSettings({ GITLAB_URL: 'https://gitlab.example.com/gitlab' }, {}).gitlabUrl).toBe('https://gitlab.example.com/gitlab');
    expect(loadSettings({ GITLAB_URL: 'http://127.0.0.1:8080' }, {}).gitlabUrl).toBe('http://127.0.0.1:8080');
    for (const bad of ['gitlab.example.com', 'javascript:alert(1)', 'ftp://x', 'https://u:p@x', 'https://x/#frag', 'http://']) {
      expect(() => loadSettings({ GITLAB_URL: bad }, {}), bad).toThrow(ConfigError);
    }
  });
});

describe('the HTTP layer redacts what it reports', () => {
  function connection(overrides: Partial<GitlabConnection>): GitlabConnection {
    return {
      url: standin.url,
      token: standin.token,
      project: PROJECT,
      timeoutMs: 5_000,
      retries: 1,
      backoffMs: 1,
      maxRetryAfterMs: 1_000,
      settleMs: 0,
      ...overrides,
    } as GitlabConnection;
  }

  function capture() {
    let text = '';
    const stream = new PassThrough();
    stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    return { log: createLogger('debug', stream), text: () => text };
  }

  async function failure(conn: GitlabConnection, logged: ReturnType<typeof capture>): Promise<string> {
    const client = createGitlabClient(conn, logged.log, async () => {});
    const error = await client
      .call('show project', (api) => api.Projects.show(PROJECT))
      .then(
        () => expect.fail('expected a rejection'),
        (reason: unknown) => reason as Error,
      );
    return `${error.message}\n${error.stack ?? ''}\n${logged.text()}`;
  }

  it("undici's invalid-header error, which quotes the header value, reaches no message or log with the token in it", async () => {
    // The settings refuse such a token; this drives the client directly. undici refuses the header before sending.
    const token = 'glpat-header-top-aa41\nheader-bottom-bb52';
    const said = await failure(connection({ token }), capture());
    expect(said).toContain('GitLab');
    for (const part of token.split('\n')) expect(said).not.toContain(part);
    expect(standin.requests).toEqual([]);
  });

  it("fetch's refusal of a URL with credentials (which quotes the URL) is redacted", async () => {
    const port = await closedPort();
    const said = await failure(connection({ url: `http://racer:pw-in-url-c3d4@127.0.0.1:${port}` }), capture());
    expect(said).not.toContain('pw-in-url-c3d4');
    expect(said).not.toContain('racer:');
  });

  it('a GitLab (or proxy) error that echoes the token and a URL with credentials is redacted in the error and the logs', async () => {
    standin.injectFault({
      status: 502,
      times: Infinity,
      body: JSON.stringify({ message: `upstream refused PRIVATE-TOKEN ${standin.token} for https://racer:pw-echo-e5f6@gitlab.internal/api` }),
    });
    const logged = capture();
    const said = await failure(connection({}), logged);
    expect(said).toContain('[REDACTED]');
    expect(said).not.toContain(standin.token);
    expect(said).not.toContain('pw-echo-e5f6');
    expect(logged.text()).toContain('"level":40'); // the retry was logged, and checked
  });

  it('an unreachable GitLab (closed port): exit 3, and the token appears in no output or debug log', async () => {
    const port = await closedPort();
    const token = 'glpat-unreachable-secret-0e7d';
    const result = await scan({ GITLAB_URL: `http://127.0.0.1:${port}`, GITLAB_TOKEN: token });
    expect(result.status).toBe(3);
    expect(result.stderr).toContain('GitLab did not answer');
    expect(result.stdout + result.stderr).not.toContain(token);
  });
});

describe('redactSecrets', () => {
  it('replaces every occurrence of every secret, longest first, in one pass', () => {
    expect(redactSecrets('a glpat-abc b glpat-abc', ['glpat-abc'])).toBe('a [REDACTED] b [REDACTED]');
    expect(redactSecrets('token glpat-abcdef', ['glpat-abc', 'glpat-abcdef'])).toBe('token [REDACTED]');
    expect(redactSecrets('x RED y', ['RED'])).toBe('x [REDACTED] y');
    expect(redactSecrets('nothing here', [])).toBe('nothing here');
    expect(redactSecrets('nothing here', ['', undefined])).toBe('nothing here');
    expect(redactSecrets('a.b*c (x) a.b*c', ['a.b*c'])).toBe('[REDACTED] (x) [REDACTED]');
  });

  it('catches a multi-line secret whole, JSON-escaped, URL-encoded, and line by line', () => {
    const secret = 'glpat-top\nbottom-part';
    expect(redactSecrets(`Headers.append: "${secret}" is an invalid header value.`, [secret])).toBe('Headers.append: "[REDACTED]" is an invalid header value.');
    expect(redactSecrets(JSON.stringify({ value: secret }), [secret])).toBe('{"value":"[REDACTED]"}');
    expect(redactSecrets(`?t=${encodeURIComponent(secret)}`, [secret])).toBe('?t=[REDACTED]');
    expect(redactSecrets('first glpat-top then bottom-part', [secret])).toBe('first [REDACTED] then [REDACTED]');
  });

  it('masks the user name and password of any URL in the text', () => {
    expect(redactSecrets('GET https://user:pa55@gitlab.example.com/api/v4', [])).toBe('GET https://[REDACTED]@gitlab.example.com/api/v4');
    expect(redactSecrets('at http://glpat-xyz@10.0.0.1:8080/x', [])).toBe('at http://[REDACTED]@10.0.0.1:8080/x');
    expect(redactSecrets('p@ss: https://u:p@ss@host/x and mail a@b.example', [])).toBe('p@ss: https://[REDACTED]@host/x and mail a@b.example');
    expect(redactSecrets('"ftp://a:b@h" and "https://c:d@h"', [])).toBe('"ftp://[REDACTED]@h" and "https://[REDACTED]@h"');
    expect(redactSecrets('https://gitlab.example.com/@user stays', [])).toBe('https://gitlab.example.com/@user stays');
  });

  it('finds the tokens in request headers, with and without their scheme', () => {
    expect(secretsInHeaders({ 'private-token': 'glpat-a', accept: 'application/json' })).toEqual(['glpat-a']);
    expect(secretsInHeaders({ Authorization: 'Bearer oauth-b' })).toEqual(['Bearer oauth-b', 'oauth-b']);
    expect(secretsInHeaders({ 'job-token': 'job-c', 'X-Profile-Token': 'prof-d' })).toEqual(['job-c', 'prof-d']);
    expect(secretsInHeaders(undefined)).toEqual([]);
  });
});

describe('a plain http:// GitLab', () => {
  function warnings(url: string): string[] {
    const said: string[] = [];
    warnIfPlainHttp({ url }, { warn: (_fields: unknown, message?: string) => void said.push(String(message)) } as never);
    return said;
  }

  it('gets one warning when the connection is set up, naming GITLAB_URL and https (no request is made for it)', () => {
    const [warning, ...more] = warnings('http://gitlab.internal:8080/');
    expect(more).toEqual([]);
    expect(warning).toContain('GITLAB_URL');
    expect(warning).toContain('http://gitlab.internal:8080/');
    expect(warning).toContain('unencrypted');
    expect(warning).toContain('https://');
    expect(warnings('http://10.1.2.3')).toHaveLength(1);
    expect(warnings('http://[fe80::1]')).toHaveLength(1);
    expect(warnings('http://127.0.0.1.example.com')).toHaveLength(1);
  });

  it('is not warned about on loopback (127.0.0.0/8, ::1, localhost), nor is https', () => {
    for (const url of [
      'http://127.0.0.1:3000',
      'http://127.9.8.7',
      'http://localhost:8080/gitlab',
      'http://LOCALHOST',
      'http://[::1]:80',
      'https://gitlab.example.com',
    ]) {
      expect(warnings(url), url).toEqual([]);
    }
  });

  it('the warning goes through the logger as a warn line (pino level 40)', () => {
    let text = '';
    const stream = new PassThrough();
    stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    expect(warnIfPlainHttp({ url: 'http://gitlab.internal' }, createLogger('info', stream))).toBe(true);
    const lines = text.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 40, gitlabUrl: 'http://gitlab.internal/' });
  });

  it('the CLI against the loopback stand-in logs no such warning', async () => {
    const result = await scan({ GITLAB_URL: standin.url, GITLAB_TOKEN: standin.token });
    expect(result.status).toBe(0);
    expect(result.stderr).not.toContain('unencrypted');
  });
});
