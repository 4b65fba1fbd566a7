/**
 * The one redaction step for text that leaves the HTTP layer (error messages, GitLab's error details):
 * every secret racewatch sent, in the forms a message may quote it, and every URL user name and password,
 * become `[REDACTED]`.
 */

export const REDACTED = '[REDACTED]';

/** A fragment of a multi-line secret shorter than this is left alone: it would blank out ordinary words. */
const MIN_FRAGMENT = 4;

/** `scheme://user:password@` (or `scheme://user@`) anywhere in a text; the userinfo runs to the authority's last `@`. */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#"'<>\\]*@/gi;

export function redactSecrets(text: string, secrets: readonly (string | undefined)[]): string {
  const forms = formsOf(secrets);
  // One pass, longest form first, so that a shorter form never matches inside a longer one or inside a REDACTED.
  const redacted = forms.length === 0 ? text : text.replace(new RegExp(forms.map(escapeRegExp).join('|'), 'g'), REDACTED);
  return redacted.replace(URL_USERINFO, `$1${REDACTED}@`);
}

/** The secrets from request headers: the token headers gitbeaker sets, with and without their scheme. */
export function secretsInHeaders(headers: Record<string, string> | undefined): string[] {
  if (!headers) return [];
  const secrets: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (!['private-token', 'job-token', 'authorization', 'x-profile-token'].includes(name.toLowerCase())) continue;
    secrets.push(String(value));
    // authorization: "Bearer <token>"; the token alone may be quoted too.
    const credentials = name.toLowerCase() === 'authorization' ? /^\s*[A-Za-z]+\s+(.+)$/s.exec(String(value))?.[1] : undefined;
    if (credentials) secrets.push(credentials);
  }
  return secrets;
}

/** Each secret as it may appear in a message: as it is, JSON-escaped, URL-encoded, and line by line. Longest first. */
function formsOf(secrets: readonly (string | undefined)[]): string[] {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (!secret) continue;
    forms.add(secret);
    forms.add(JSON.stringify(secret).slice(1, -1));
    forms.add(encodeURIComponent(secret));
    for (const line of secret.split(/[\r\n\u2028\u2029]+/)) {
      const trimmed = line.trim();
      if (trimmed.length >= MIN_FRAGMENT) forms.add(trimmed);
    }
  }
  return [...forms].filter((form) => form.length > 0).sort((a, b) => b.length - a.length);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
