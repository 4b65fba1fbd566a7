import type { DeliverySummary } from './gitlab-sink.js';

/** The one-paragraph account of a filing run that `scan` prints. */
export function describeDelivery(summary: DeliverySummary, project: string, maxNewIssues: number): string {
  const parts = [
    `GitLab project ${project}: ${summary.received} race report(s) read, ${summary.alreadyDelivered} of them filed before or repeated in this run`,
    `filed ${summary.created} new issue(s), commented ${summary.commented} time(s), reopened ${summary.reopened}`,
  ];
  if (summary.duplicatesClosed > 0) parts.push(`closed ${summary.duplicatesClosed} duplicate(s) filed concurrently by another box`);
  if (summary.ignored > 0) parts.push(`${summary.ignored} sighting(s) of ignored issues recorded without comment`);
  const lines = [`${parts.join('; ')}.`];
  if (summary.pending > 0) {
    const reasons = [
      summary.overCap > 0 ? `${summary.overCap} over the cap of ${maxNewIssues} new issues per run` : '',
      summary.heldForWindow > 0 ? `${summary.heldForWindow} waiting for the comment window` : '',
      summary.failure ? 'GitLab did not take the rest' : '',
    ].filter(Boolean);
    const why = reasons.length > 0 ? ` (${reasons.join('; ')})` : '';
    lines.push(`${summary.pending} sighting(s) pending${why}; they are kept in the state store and delivered on the next run.`);
  }
  return `${lines.join('\n')}\n`;
}
