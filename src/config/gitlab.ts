import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log/logger.js';
import type { GitlabConnection } from '../sink/gitlab/client.js';
import { gitlabUrlProblem, isLoopbackHost, showGitlabUrl } from './gitlab-url.js';
import { ConfigError, type Settings } from './settings.js';

/** systemd's LoadCredential=gitlab-token:/path puts the token here. */
const CREDENTIAL_NAME = 'gitlab-token';

/**
 * The GitLab connection, or null when GitLab is not configured at all (then racewatch dry-runs).
 * A half-configured GitLab is an error, never a silent dry run.
 */
export function gitlabConnectionFrom(settings: Settings, env: NodeJS.ProcessEnv): GitlabConnection | null {
  const token = readToken(settings, env);
  const given = [settings.gitlabUrl, token, settings.gitlabProject].filter((value) => value !== undefined).length;
  if (given === 0) return null;
  if (!settings.gitlabUrl)
    throw new ConfigError('GITLAB_URL is not set, but other GitLab settings are: set it to your GitLab, e.g. https://gitlab.example.com');
  // loadSettings refused such a URL already; checked again for settings put together some other way.
  const urlProblem = gitlabUrlProblem(settings.gitlabUrl);
  if (urlProblem) throw new ConfigError(`GITLAB_URL: ${urlProblem} (got ${JSON.stringify(showGitlabUrl(settings.gitlabUrl))})`);
  if (!token) throw new ConfigError('GitLab token missing: set GITLAB_TOKEN or GITLAB_TOKEN_FILE (a file holding the token)');
  if (!settings.gitlabProject) throw new ConfigError('GITLAB_PROJECT is not set: the numeric project id or its path, e.g. soak/svc');
  return {
    url: settings.gitlabUrl,
    token,
    project: settings.gitlabProject,
    timeoutMs: settings.gitlabTimeout,
    retries: settings.gitlabRetries,
    backoffMs: settings.gitlabBackoff,
    maxRetryAfterMs: settings.gitlabMaxRetryAfter,
    settleMs: settings.gitlabSettle,
  };
}

/**
 * A plain http:// GitLab gets the token unencrypted: one warning when the connection is set up. Loopback
 * (127.0.0.0/8, ::1, localhost) is spared: that traffic never leaves the machine.
 */
export function warnIfPlainHttp(connection: Pick<GitlabConnection, 'url'>, log: Pick<Logger, 'warn'>): boolean {
  let url: URL;
  try {
    url = new URL(connection.url);
  } catch {
    return false; // gitlabConnectionFrom refuses such a URL; nothing to warn about here
  }
  if (url.protocol !== 'http:' || isLoopbackHost(url.hostname)) return false;
  log.warn(
    { gitlabUrl: showGitlabUrl(connection.url) },
    `GITLAB_URL ${showGitlabUrl(connection.url)} is plain http: the token and the reports cross the network unencrypted; use https://`,
  );
  return true;
}

function readToken(settings: Settings, env: NodeJS.ProcessEnv): string | undefined {
  if (settings.gitlabTokenFile) return readTokenFile(settings.gitlabTokenFile, 'GITLAB_TOKEN_FILE');
  if (settings.gitlabToken) return checkedToken(settings.gitlabToken, 'GITLAB_TOKEN');
  if (env.CREDENTIALS_DIRECTORY) {
    const credential = path.join(env.CREDENTIALS_DIRECTORY, CREDENTIAL_NAME);
    let text: string;
    try {
      text = readFileSync(credential, 'utf8').trim();
    } catch {
      return undefined; // no such credential: GitLab is simply not configured this way
    }
    if (text === '') return undefined;
    return checkedToken(text, `systemd credential ${CREDENTIAL_NAME}`, credential);
  }
  return undefined;
}

function readTokenFile(file: string, setting: string): string {
  let token: string;
  try {
    token = readFileSync(file, 'utf8').trim();
  } catch (error) {
    throw new ConfigError(`${setting}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  if (token === '') throw new ConfigError(`${setting}: ${file} is empty`);
  return checkedToken(token, setting, file);
}

/**
 * The token goes into an HTTP header as it is: a line break or a control character would either be refused
 * there (in an error that quotes the whole header value) or split the header. The message never shows the
 * token, only where it came from. Leading and trailing whitespace (a file's final newline) is already gone.
 */
function checkedToken(token: string, setting: string, file?: string): string {
  const fix = file ? 'the file must hold only the token, on one line (a final newline is fine)' : 'set it to the token alone';
  const what = file ? `the token in ${file}` : 'the token';
  let problem: string | null = null;
  if (/[\r\n\v\f\u0085\u2028\u2029]/.test(token)) problem = `${file ?? 'the token'} has more than one line`;
  else if (/[\u0000-\u001f\u007f-\u009f]/.test(token)) problem = `${what} contains a control character`;
  else if (/[^\u0020-\u007e]/.test(token)) problem = `${what} contains a character that is not ASCII (GitLab tokens are ASCII)`;
  if (problem) throw new ConfigError(`${setting}: ${problem}; ${fix}`);
  return token;
}
