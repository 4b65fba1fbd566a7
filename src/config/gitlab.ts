import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { GitlabConnection } from '../sink/gitlab/client.js';
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
  if (!settings.gitlabUrl) throw new ConfigError('GITLAB_URL is not set, but other GitLab settings are: set it to your GitLab, e.g. https://gitlab.example.com');
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
  };
}

function readToken(settings: Settings, env: NodeJS.ProcessEnv): string | undefined {
  if (settings.gitlabTokenFile) return readTokenFile(settings.gitlabTokenFile, 'GITLAB_TOKEN_FILE');
  if (settings.gitlabToken) return settings.gitlabToken;
  if (env.CREDENTIALS_DIRECTORY) {
    const credential = path.join(env.CREDENTIALS_DIRECTORY, CREDENTIAL_NAME);
    try {
      return readTokenFile(credential, 'systemd credential');
    } catch {
      return undefined;
    }
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
  return token;
}
