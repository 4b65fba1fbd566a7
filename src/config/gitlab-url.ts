/**
 * The rules for GITLAB_URL, shared by the settings (which refuse a bad value at start-up) and the GitLab
 * connection. Nothing here ever repeats a user name or password found in the value.
 */

const EXAMPLE = 'https://gitlab.example.com';

/** Why the value cannot be racewatch's GitLab URL, or null when it can. */
export function gitlabUrlProblem(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return `must be a URL such as ${EXAMPLE}`;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    // With an @ in the value, what parses as a scheme may be a user name ("user:password@host"): not named then.
    return `must be an https:// (or http://) URL such as ${EXAMPLE}${raw.includes('@') ? '' : `, not ${url.protocol}`}`;
  }
  if (url.hostname === '') return `must name the GitLab host, e.g. ${EXAMPLE}`;
  if (url.username !== '' || url.password !== '') {
    return 'must not hold a user name or password: put the token in GITLAB_TOKEN or GITLAB_TOKEN_FILE instead';
  }
  if (url.search !== '' || url.hash !== '') return `must not have a query (?...) or fragment (#...): only scheme, host, port and path, e.g. ${EXAMPLE}`;
  return null;
}

/**
 * The value as it may be shown in a message: a user name or password replaced by `***`, and so are a
 * query and a fragment (they may hold a token too). A value that is not even a URL loses everything
 * between its scheme and its last `@`.
 */
export function showGitlabUrl(raw: string): string {
  let url: URL | null = null;
  try {
    url = new URL(raw);
  } catch {
    // Not a URL: shown as typed, but with whatever could be credentials masked.
  }
  if (url && (url.protocol === 'https:' || url.protocol === 'http:')) {
    const userinfo = url.username !== '' || url.password !== '' ? '***@' : '';
    return `${url.protocol}//${userinfo}${url.host}${url.pathname}${url.search ? '?***' : ''}${url.hash ? '#***' : ''}`;
  }
  const at = raw.lastIndexOf('@');
  if (at === -1) return raw;
  // Only a scheme followed by // is kept: in "user:password@host" the "user:" is not one.
  const scheme = /^\s*[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(raw)?.[0] ?? '';
  return `${scheme.length <= at ? scheme : ''}***${raw.slice(at)}`;
}

/** 127.0.0.0/8, ::1 and localhost: traffic that never leaves the machine. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
  if (host === 'localhost') return true;
  if (host === '::1' || host === '0:0:0:0:0:0:0:1') return true;
  if (/^::ffff:127\./.test(host) || /^::ffff:7f[0-9a-f]{2}:/.test(host)) return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
