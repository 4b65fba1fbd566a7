// Counting what reached GitLab: every occurrence id in the stand-in's issue descriptions and notes, compared
// with what the logs hold. The ids and fingerprints are read with racewatch's own marker readers
// (src/sink/gitlab/marker.ts), the expectation comes from a dry-run scan of the final logs.
import { fingerprintInMarker } from '../../src/sink/gitlab/marker.js';
import { jsonLines, racewatchAsync } from './cli.js';
import { recordedOccurrences, waitFor } from './daemon.js';
import type { GitlabStandin } from './gitlab-standin.js';

export interface ExpectedOccurrence {
  id: string;
  fingerprint: string;
  title: string;
}

/** What `racewatch scan --dry-run --json` finds in the files: one entry per report occurrence. */
export async function expectedOccurrences(files: string[]): Promise<ExpectedOccurrence[]> {
  const result = await racewatchAsync(['scan', '--dry-run', '--json', ...files], {});
  if (result.status !== 0) throw new Error(`dry-run scan of ${files.join(' ')} exited ${result.status}: ${result.stderr}`);
  return jsonLines(result.stdout).map((line) => ({ id: String(line.id), fingerprint: String(line.fingerprint), title: String(line.title) }));
}

export interface Audit {
  /** Expected ids GitLab does not hold. */
  lost: string[];
  /** Ids GitLab holds more than once (over all descriptions and notes, open and closed issues). */
  twice: string[];
  /** Ids GitLab holds that no log has. */
  unexpected: string[];
  /** Open issues (their iids) by the fingerprint in their marker. */
  openIssuesPerFingerprint: Map<string, number[]>;
  recorded: number;
}

export function audit(standin: GitlabStandin, expectedIds: Iterable<string>, projectId = 42): Audit {
  const expected = new Set(expectedIds);
  const counts = new Map<string, number>();
  for (const id of recordedOccurrences(standin, projectId)) counts.set(id, (counts.get(id) ?? 0) + 1);
  const openIssuesPerFingerprint = new Map<string, number[]>();
  for (const issue of standin.issues(projectId)) {
    const fingerprint = fingerprintInMarker(issue.description);
    if (issue.state !== 'opened' || fingerprint === null) continue;
    openIssuesPerFingerprint.set(fingerprint, [...(openIssuesPerFingerprint.get(fingerprint) ?? []), issue.iid]);
  }
  return {
    lost: [...expected].filter((id) => !counts.has(id)),
    twice: [...counts].filter(([, n]) => n > 1).map(([id]) => id),
    unexpected: [...counts.keys()].filter((id) => !expected.has(id)),
    openIssuesPerFingerprint,
    recorded: [...counts.values()].reduce((a, b) => a + b, 0),
  };
}

/**
 * Everything wrong with an audit, one line each, naming ids, fingerprints and issues; [] when every
 * expected sighting is in GitLab exactly once and each fingerprint has exactly one open issue.
 */
export function auditProblems(result: Audit, expected: ExpectedOccurrence[], options: { closedFingerprints?: string[] } = {}): string[] {
  const fingerprintOf = new Map(expected.map((o) => [o.id, o.fingerprint]));
  const show = (ids: string[]) =>
    ids
      .slice(0, 8)
      .map((id) => `${id.slice(0, 12)} (${short(fingerprintOf.get(id))})`)
      .join(', ') + (ids.length > 8 ? ', …' : '');
  const problems: string[] = [];
  if (result.lost.length > 0) problems.push(`lost ${result.lost.length} of ${expected.length} sightings: ${show(result.lost)}`);
  if (result.twice.length > 0) problems.push(`recorded twice or more: ${result.twice.length} sightings: ${show(result.twice)}`);
  if (result.unexpected.length > 0) problems.push(`${result.unexpected.length} ids in GitLab that no log holds: ${show(result.unexpected)}`);
  const closed = new Set(options.closedFingerprints ?? []);
  for (const fingerprint of new Set([...expected.map((o) => o.fingerprint), ...result.openIssuesPerFingerprint.keys()])) {
    const open = result.openIssuesPerFingerprint.get(fingerprint) ?? [];
    const want = closed.has(fingerprint) ? 0 : 1;
    if (open.length !== want)
      problems.push(`${short(fingerprint)}: ${open.length} open issues (${open.map((iid) => `#${iid}`).join(', ') || 'none'}), want ${want}`);
  }
  return problems;
}

/** Waits (bounded) until GitLab holds every expected id; true if it did. Never throws: the audit says what is missing. */
export async function waitUntilRecorded(standin: GitlabStandin, expectedIds: Iterable<string>, timeoutMs: number, projectId = 42): Promise<boolean> {
  const expected = [...expectedIds];
  try {
    await waitFor(
      () => {
        const recorded = new Set(recordedOccurrences(standin, projectId));
        return expected.every((id) => recorded.has(id));
      },
      'every expected sighting in GitLab',
      timeoutMs,
    );
    return true;
  } catch {
    return false;
  }
}

export function short(fingerprint: string | undefined | null): string {
  if (!fingerprint) return '?';
  return fingerprint.replace(/^gorace-v\d+:/, '').slice(0, 12);
}
