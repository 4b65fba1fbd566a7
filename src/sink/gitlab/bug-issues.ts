import type { Logger } from '../../log/logger.js';
import type { BugLookup } from '../../state/sink-state.js';
import { liveIssues } from './canonical.js';
import { sideKeysInMarker, withKeysAdded } from './marker.js';
import type { IssueTracker, TrackedIssue } from './tracker.js';

/**
 * Which issues stand for a bug, found in GitLab alone (so every box, whatever its state, finds the same ones):
 *
 * 1. the issues answering to any of its keys: its key and the keys earlier releases gave it (an issue filed by
 *    racewatch 0.1 answers to its gorace-v1 key);
 * 2. failing those, for a complete report: the issues filed for a half report of one of its sides that no other
 *    complete bug has joined (the half report came first);
 * 3. failing those, for a half report: the issue of the one bug that contains its surviving side, if exactly one
 *    does (with two, the half report cannot tell which it belongs to and gets its own issue).
 *
 * The issue the sightings then go to learns every key of the bug (recordKeys), so that the next lookup finds it
 * at step 1 by the current key.
 */
export class BugIssues {
  constructor(
    private readonly tracker: IssueTracker,
    private readonly log: Logger,
  ) {}

  async of(bug: BugLookup): Promise<TrackedIssue[]> {
    const own = await this.tracker.findAnswering(bug.keys);
    if (own.length > 0) return own;
    if (bug.kind === 'complete') return this.halfIssuesOfItsSides(bug);
    if (bug.kind === 'half' && bug.sideKeys.length === 1) return this.theOneContaining(bug.sideKeys[0]!);
    return [];
  }

  /** Issues of earlier keys that named many bugs at once: read only to learn which sightings GitLab has. */
  async formerlyShared(bug: BugLookup): Promise<TrackedIssue[]> {
    return bug.formerShared.length > 0 ? this.tracker.findAnswering(bug.formerShared) : [];
  }

  /** Adds the bug's keys (and, for a complete bug, its side keys) to the issue's marker when it lacks any. */
  async recordKeys(issue: TrackedIssue, bug: BugLookup): Promise<void> {
    const description = withKeysAdded(issue.description, bug.keys, bug.kind === 'complete' ? bug.sideKeys : []);
    if (description === null) return;
    await this.tracker.editDescription(issue.iid, description);
    issue.description = description;
    this.log.info({ iid: issue.iid, fingerprint: bug.fingerprint }, `#${issue.iid} now answers to ${bug.fingerprint} as well`);
  }

  private async halfIssuesOfItsSides(bug: BugLookup): Promise<TrackedIssue[]> {
    const halves = await this.tracker.findAnswering(bug.sideKeys);
    return halves.filter((issue) => sideKeysInMarker(issue.description).every((key) => bug.sideKeys.includes(key)));
  }

  private async theOneContaining(sideKey: string): Promise<TrackedIssue[]> {
    const containing = liveIssues(await this.tracker.findContainingSide(sideKey));
    return containing.length === 1 ? containing : [];
  }
}
