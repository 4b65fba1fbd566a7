import type { Logger } from '../../log/logger.js';
import { counts } from '../../observability/metrics.js';
import type { BugLookup, InflightWrite, Sighting } from '../../state/sink-state.js';
import { LEGACY_DELIVERY_ID } from '../../state/sink-state.js';
import { BugIssues } from './bug-issues.js';
import { canonicalIssue } from './canonical.js';
import type { GitlabClient } from './client.js';
import { GitlabHttpError } from './errors.js';
import { findWithin, newDeliveryId, writeExactlyOnce } from './exactly-once.js';
import { issueDescription, movedDescription, movedSightingsComment, sightingsComment, type CommentReason } from './issue-text.js';
import { deliveryIdInMarker, movedToInMarker, occurrenceIdsInMarkers } from './marker.js';
import type { Outbox } from './outbox.js';
import { titleForNewIssue } from './titles.js';
import type { IssueTracker, TrackedIssue } from './tracker.js';

export type ReopenPolicy = 'reopen' | 'comment' | 'new-issue';

export interface PolicyOptions {
  ignoreLabel: string;
  reopenPolicy: ReopenPolicy;
  /** At most one comment per issue in this window; 0 comments on every delivery. */
  commentWindowMs: number;
  maxNewIssues: number;
  now: () => Date;
}

export interface DeliverySummary {
  received: number;
  alreadyDelivered: number;
  created: number;
  commented: number;
  reopened: number;
  duplicatesClosed: number;
  ignored: number;
  /** Sightings left for a later run: over the cap, inside a comment window, or GitLab unavailable. */
  pending: number;
  overCap: number;
  /** Sightings of an open issue commented on less than a comment window ago: they go into its next comment. */
  heldForWindow: number;
  failure: Error | null;
}

export function emptySummary(): DeliverySummary {
  return {
    received: 0,
    alreadyDelivered: 0,
    created: 0,
    commented: 0,
    reopened: 0,
    duplicatesClosed: 0,
    ignored: 0,
    pending: 0,
    overCap: 0,
    heldForWindow: 0,
    failure: null,
  };
}

/**
 * Each write carries at most this many sightings, so its ids marker stays far below GitLab's limits on
 * descriptions (1 MiB) and notes (1,000,000 characters) whatever the backlog: a backlog goes in parts.
 */
export const SIGHTINGS_PER_WRITE = 1000;
const CLIPPED_REPORT_CHARS = 2000;

/** What racewatch does in GitLab with the sightings of one fingerprint: find, create, comment, reopen, settle. */
export class IssuePolicy {
  private readonly client: GitlabClient;
  private readonly bugIssues: BugIssues;

  constructor(
    private readonly tracker: IssueTracker,
    private readonly outbox: Outbox,
    private readonly options: PolicyOptions,
    private readonly summary: DeliverySummary,
    private readonly log: Logger,
  ) {
    this.client = tracker.client;
    this.bugIssues = new BugIssues(tracker, log);
  }

  /** Delivers a bug's pending sightings (none: only records its key in its issue, see Outbox.rememberKey). */
  async deliver(bug: BugLookup, sightings: Sighting[]): Promise<void> {
    const issues = await this.bugIssues.of(bug);
    const earlier = earlierKeys(bug);
    if (!this.outbox.linkOf(bug.fingerprint, earlier)) await this.learnFromGitlab([...issues, ...(await this.bugIssues.formerlyShared(bug))]);
    const canonical = canonicalIssue(issues);
    if (canonical) {
      await this.bugIssues.recordKeys(canonical, bug);
      this.outbox.setLink(bug.fingerprint, canonical.iid, canonical.webUrl, false, earlier);
    }
    this.outbox.forgetUnlinked(bug.fingerprint);
    const fresh = sightings.filter((s) => !this.outbox.state.delivered[s.id]);
    if (fresh.length === 0) return this.outbox.save();
    if (!canonical) return this.createWithParts(bug, fresh, null);
    if (canonical.labels.includes(this.options.ignoreLabel)) {
      this.summary.ignored += fresh.length;
      this.outbox.markDelivered(fresh.map((s) => s.id));
      return this.outbox.save();
    }
    if (canonical.state === 'closed') return this.cameBack(bug, canonical, fresh);
    const last = this.outbox.linkOf(bug.fingerprint, earlier)?.lastCommentAt;
    const window = this.options.commentWindowMs;
    if (window > 0 && last && this.options.now().getTime() - Date.parse(last) < window) {
      this.summary.heldForWindow += fresh.length;
      return;
    }
    await this.commentWithParts(canonical, fresh, 'seen-again');
  }

  /** A box with no record of this fingerprint (new, or its state was lost) reads what GitLab holds first. */
  private async learnFromGitlab(issues: TrackedIssue[]): Promise<void> {
    for (const issue of issues) {
      this.outbox.markDelivered(occurrenceIdsInMarkers(issue.description));
      for (const body of await this.tracker.allNoteBodies(issue.iid)) this.outbox.markDelivered(occurrenceIdsInMarkers(body));
    }
  }

  private async cameBack(bug: BugLookup, issue: TrackedIssue, sightings: Sighting[]): Promise<void> {
    if (this.options.reopenPolicy === 'new-issue') return this.createWithParts(bug, sightings, issue);
    if (this.options.reopenPolicy === 'reopen') {
      await this.tracker.setState(issue.iid, 'reopen');
      this.summary.reopened += 1;
    }
    await this.commentWithParts(issue, sightings, 'came-back');
  }

  private async createWithParts(bug: BugLookup, sightings: Sighting[], previous: TrackedIssue | null): Promise<void> {
    if (this.summary.created >= this.options.maxNewIssues) {
      this.summary.overCap += sightings.length;
      return;
    }
    let issue: TrackedIssue | null = null;
    await this.sendInParts(sightings, async (part) => {
      if (issue) await this.comment(issue, part, 'seen-again');
      else issue = await this.create(bug, part, previous);
    });
    if (issue) await this.settle((issue as TrackedIssue).iid, bug.keys);
  }

  private async commentWithParts(issue: TrackedIssue, sightings: Sighting[], reason: CommentReason): Promise<void> {
    await this.sendInParts(sightings, (part) => this.comment(issue, part, reason));
  }

  /**
   * Sends the sightings in parts of at most SIGHTINGS_PER_WRITE; a part GitLab still finds too long (400)
   * goes again in halves, and a single sighting with its report clipped, instead of failing every run.
   */
  private async sendInParts(sightings: Sighting[], send: (part: Sighting[]) => Promise<void>): Promise<void> {
    const queue = parts(sightings);
    for (let part = queue.shift(); part; part = queue.shift()) {
      try {
        await send(part);
      } catch (error) {
        queue.unshift(...this.smaller(part, error));
      }
    }
  }

  private smaller(part: Sighting[], error: unknown): Sighting[][] {
    if (!isTooLong(error)) throw error;
    this.log.warn({ sightings: part.length }, 'GitLab found a write too long; sending it in smaller parts');
    if (part.length > 1) return [part.slice(0, Math.ceil(part.length / 2)), part.slice(Math.ceil(part.length / 2))];
    const only = part[0]!;
    if (only.text.length > CLIPPED_REPORT_CHARS) return [[{ ...only, text: only.text.slice(0, CLIPPED_REPORT_CHARS) }]];
    throw error;
  }

  private async create(bug: BugLookup, sightings: Sighting[], previous: TrackedIssue | null): Promise<TrackedIssue> {
    const first = sightings[0]!;
    const deliveryId = newDeliveryId();
    const description = issueDescription(sightings, previous?.iid ?? null, deliveryId, bug);
    const title = await titleForNewIssue(this.tracker, bug, first);
    const issue = await writeExactlyOnce(this.client, {
      what: 'create issue',
      send: () => this.tracker.createOnce(title, description),
      find: () => this.findCreated(first.fingerprint, deliveryId),
      beforeSend: (at) => this.outbox.beginWrite(this.record('create', first.fingerprint, null, sightings, deliveryId, at)),
    });
    this.outbox.acknowledge(sightings.map((s) => s.id));
    this.outbox.setLink(first.fingerprint, issue.iid, issue.webUrl, true);
    this.outbox.addSettling(bug, issue.iid);
    // Not saved here: until the next save the recorded write stands for it, and a restart finds it by its id.
    this.summary.created += 1;
    counts.issuesCreated += 1;
    this.log.info({ iid: issue.iid, url: issue.webUrl, fingerprint: first.fingerprint }, `filed #${issue.iid}: ${title}`);
    return issue;
  }

  private async comment(issue: TrackedIssue, sightings: Sighting[], reason: CommentReason): Promise<void> {
    const fingerprint = sightings[0]!.fingerprint;
    const deliveryId = newDeliveryId();
    const body = sightingsComment(sightings, reason, deliveryId);
    await writeExactlyOnce(this.client, {
      what: 'comment',
      send: () => this.tracker.noteOnce(issue.iid, body).then(() => true as const),
      find: () => this.findNote(issue.iid, deliveryId, []),
      beforeSend: (at) => this.outbox.beginWrite(this.record('note', fingerprint, issue.iid, sightings, deliveryId, at)),
    });
    this.outbox.acknowledge(sightings.map((s) => s.id));
    this.outbox.setLink(fingerprint, issue.iid, issue.webUrl, true);
    this.summary.commented += 1;
    counts.commentsPosted += 1;
  }

  private record(kind: InflightWrite['kind'], fingerprint: string, iid: number | null, sightings: Sighting[], deliveryId: string, at: Date): InflightWrite {
    return { deliveryId, kind, fingerprint, iid, ids: sightings.map((s) => s.id), sentAt: at.toISOString() };
  }

  private async findCreated(fingerprint: string, deliveryId: string): Promise<TrackedIssue | null> {
    const issues = await this.tracker.findAnswering([fingerprint]);
    return issues.find((issue) => deliveryIdInMarker(issue.description) === deliveryId) ?? null;
  }

  /** A note of this delivery (or, for a write recorded before delivery ids existed, one carrying all its ids). */
  private async findNote(iid: number, deliveryId: string, legacyIds: string[]): Promise<true | null> {
    const bodies = await this.tracker.recentNoteBodies(iid);
    const matches = (body: string) =>
      deliveryId === LEGACY_DELIVERY_ID
        ? legacyIds.length > 0 && legacyIds.every((id) => occurrenceIdsInMarkers(body).includes(id))
        : deliveryIdInMarker(body) === deliveryId;
    return bodies.some(matches) ? true : null;
  }

  /** The write a crash, a timeout or a stop left unanswered: look for it before anything is sent again. */
  async recoverInflight(): Promise<void> {
    const write = this.outbox.inflight;
    if (!write) return;
    const deadline = Date.parse(write.sentAt) + this.client.connection.settleMs;
    if (write.kind === 'create') {
      const issue = await findWithin(this.client, () => this.findCreated(write.fingerprint, write.deliveryId), deadline);
      this.outbox.acknowledge(issue ? write.ids : []);
      if (issue) {
        this.outbox.setLink(write.fingerprint, issue.iid, issue.webUrl, true);
        this.outbox.addSettling({ fingerprint: write.fingerprint, keys: [write.fingerprint] }, issue.iid);
        this.log.info({ iid: issue.iid }, `found #${issue.iid}, filed by an interrupted run; not filing it again`);
      }
    } else {
      const found = await findWithin(this.client, () => this.findNote(write.iid!, write.deliveryId, write.ids), deadline);
      this.outbox.acknowledge(found ? write.ids : []);
      if (found) this.log.info({ iid: write.iid }, 'found the comment of an interrupted run; not posting it again');
    }
    await this.outbox.save();
  }

  /** Issues this box created that another box may have filed first, moved to the canonical one. */
  async settleAll(): Promise<void> {
    for (const { iid, keys } of [...this.outbox.state.settling]) await this.settle(iid, keys);
  }

  /**
   * Concurrent creates converge: when this box's issue is not the canonical one, its sightings are
   * commented there (once: the move's delivery id is derived from the issue) and, in one request, its
   * description points to the canonical issue and it is closed.
   */
  private async settle(iid: number, keys: string[]): Promise<void> {
    const issues = await this.tracker.findAnswering(keys);
    const canonical = canonicalIssue(issues);
    const mine = issues.find((issue) => issue.iid === iid);
    const moved = mine !== undefined && movedToInMarker(mine.description) !== null;
    if (mine && canonical && canonical.iid !== iid && !moved) await this.move(mine, canonical, keys[0]!);
    this.outbox.removeSettling(iid);
    await this.outbox.save();
  }

  private async move(duplicate: TrackedIssue, canonical: TrackedIssue, fingerprint: string): Promise<void> {
    const ids = occurrenceIdsInMarkers(duplicate.description);
    const deliveryId = `moved-${duplicate.iid}`;
    const body = movedSightingsComment(duplicate.iid, ids, deliveryId);
    if (ids.length > 0 && !(await this.findNote(canonical.iid, deliveryId, []))) {
      await writeExactlyOnce(this.client, {
        what: 'comment',
        send: () => this.tracker.noteOnce(canonical.iid, body).then(() => true as const),
        find: () => this.findNote(canonical.iid, deliveryId, []),
        beforeSend: (at) => this.outbox.beginWrite({ deliveryId, kind: 'note', fingerprint, iid: canonical.iid, ids, sentAt: at.toISOString() }),
      });
      this.outbox.acknowledge([]);
    }
    await this.tracker.closeWithDescription(duplicate.iid, movedDescription(duplicate.description, canonical.iid));
    this.outbox.setLink(fingerprint, canonical.iid, canonical.webUrl, false);
    this.summary.duplicatesClosed += 1;
    this.log.info({ duplicate: duplicate.iid, canonical: canonical.iid }, `#${duplicate.iid} closed as a duplicate of #${canonical.iid}`);
  }
}

function earlierKeys(bug: BugLookup): string[] {
  return bug.keys.filter((key) => key !== bug.fingerprint);
}

function parts(sightings: Sighting[]): Sighting[][] {
  const result: Sighting[][] = [];
  for (let start = 0; start < sightings.length; start += SIGHTINGS_PER_WRITE) result.push(sightings.slice(start, start + SIGHTINGS_PER_WRITE));
  return result;
}

function isTooLong(error: unknown): boolean {
  return error instanceof GitlabHttpError && error.status === 400 && /too long|too large/i.test(error.detail);
}
