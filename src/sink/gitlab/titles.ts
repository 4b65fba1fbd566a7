import { formatNamed } from '../../../parsers/registry.js';
import { sanitizeTitle } from '../../fingerprint/fingerprint.js';
import { issueToken } from '../../fingerprint/token.js';
import type { BugLookup, Sighting } from '../../state/sink-state.js';
import { answerKeysInMarker, sidesInMarker } from './marker.js';
import type { IssueTracker, TrackedIssue } from './tracker.js';

/**
 * The title a new issue gets: the report's title, unless an issue of another bug in the project has it already
 * (`presence/session.(*Store).Lookup` and `svc/session.(*Store).Lookup` both print as `session.(*Store).Lookup`).
 * Then the racing functions show as many elements of their import paths as it takes to differ from every such
 * issue's functions (the shortest distinguishing package path), and failing that (the very same functions, keyed
 * apart by a deeper --fingerprint-depth) the title ends with the issue's token. Chosen once, when the issue is
 * filed: racewatch never changes a title, so a bug keeps the title it was given.
 */
export async function titleForNewIssue(tracker: IssueTracker, bug: BugLookup, first: Sighting): Promise<string> {
  const rivals = await othersTitled(tracker, bug, first.title);
  if (rivals.length === 0) return first.title;
  const withToken = sanitizeTitle(`${first.title.slice(0, 200)} (${issueToken(bug.fingerprint)})`);
  if (first.kind === 'incomplete' || first.sides.length === 0) return withToken;
  const rivalSides = rivals.map((issue) => sidesInMarker(issue.description)).filter((sides) => sides.length > 0);
  const { title: racingTitle } = formatNamed(first.format);
  const deepest = Math.max(...first.sides.map((side) => side[0]!.split('/').length));
  for (let elements = 2; elements <= deepest; elements += 1) {
    const title = racingTitle(first.sides, elements);
    if (rivalSides.some((sides) => racingTitle(sides, elements) === title)) continue;
    if ((await othersTitled(tracker, bug, title)).length === 0) return title;
  }
  return withToken;
}

/** Issues titled exactly `title` that do not answer to this bug (its own earlier issue may share its title). */
async function othersTitled(tracker: IssueTracker, bug: BugLookup, title: string): Promise<TrackedIssue[]> {
  const found = await tracker.findByTitle(title);
  return found.filter((issue) => issue.title === title && !answerKeysInMarker(issue.description).some((key) => bug.keys.includes(key)));
}
