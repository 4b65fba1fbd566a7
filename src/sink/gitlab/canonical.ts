import { movedToInMarker, supersedesInMarker } from './marker.js';
import type { TrackedIssue } from './tracker.js';

/**
 * The one issue of a fingerprint, chosen from GitLab's issues alone so that every box, whatever its state
 * and whoever closed what, picks the same one: the oldest issue that neither moved its sightings to
 * another (a concurrent duplicate) nor was superseded by a newer issue filed under the `new-issue` policy.
 */
export function canonicalIssue(issues: TrackedIssue[]): TrackedIssue | null {
  return liveIssues(issues).reduce<TrackedIssue | null>((oldest, issue) => (oldest === null || issue.iid < oldest.iid ? issue : oldest), null);
}

/** The issues that still stand for their bug: neither moved to another nor superseded by a newer one. */
export function liveIssues(issues: TrackedIssue[]): TrackedIssue[] {
  const live = issues.filter((issue) => movedToInMarker(issue.description) === null);
  const superseded = new Set(live.map((issue) => supersedesInMarker(issue.description)));
  return live.filter((issue) => !superseded.has(issue.iid));
}
