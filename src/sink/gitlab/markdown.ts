/**
 * Markdown that keeps log text inert in GitLab: nothing a log line says can close the fence around it,
 * run a quick action (`/close`), mention people (`@all`) or inject HTML.
 */

/**
 * A fenced code block no content can close: the fence is longer than any backtick run inside. Lines that
 * start with `/` or a backtick run get one leading space, because GitLab's quick-action extractor ends a
 * fenced block at the first bare ``` line whatever the opening fence was.
 */
export function codeBlock(text: string): string {
  const longestRun = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(Math.max(3, longestRun + 1));
  const body = text
    .split('\n')
    .map((line) => (/^(?:\/|`)/.test(line) ? ` ${line}` : line))
    .join('\n');
  return `${fence}text\n${body}\n${fence}`;
}

/** Inline code for a short value taken from a log (a function name, a path, a host name). */
export function inlineCode(value: string): string {
  const single = value.replace(/[\u0000-\u001f\u007f]+/g, ' ');
  const longestRun = Math.max(0, ...(single.match(/`+/g) ?? []).map((run) => run.length));
  const ticks = '`'.repeat(longestRun + 1);
  return longestRun > 0 ? `${ticks} ${single} ${ticks}` : `${ticks}${single}${ticks}`;
}

/** Keeps the head of a long report: GitLab caps descriptions at 1 MiB and notes at 1,000,000 characters. */
export function clip(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  return `${text.slice(0, maxChars)}\n[... ${text.length - maxChars} more characters cut by racewatch]`;
}
