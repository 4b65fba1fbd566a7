import type { Logger } from '../../log/logger.js';
import { counts } from '../../observability/metrics.js';
import type { RaceOccurrence } from '../../pipeline/occurrence.js';
import { loadState, lockState, saveState, type IssueLink, type SinkState, type Sighting } from '../../state/sink-state.js';
import type { RaceSink } from '../sink.js';
import { GitlabConfigurationError, GitlabHttpError, GitlabUnavailableError } from './errors.js';
import { duplicateComment, issueDescription, sightingsComment } from './issue-text.js';
import { fingerprintInMarker, occurrenceIdsInMarkers } from './marker.js';
import { toSighting } from './sighting.js';
import type { IssueTracker, TrackedIssue } from './tracker.js';

export type ReopenPolicy = 'reopen' | 'comment' | 'new-issue';

export interface GitlabSinkOptions {
  tracker: IssueTracker;
  log: Logger;
  stateFile: string;
  project: string;
  ignoreLabel: string;
  reopenPolicy: ReopenPolicy;
  /** At most one comment per issue in this window; 0 comments on every delivery. */
  commentWindowMs: number;
  maxNewIssues: number;
  host: string;
  now?: () => Date;
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

export interface GitlabSink extends RaceSink {
  readonly summary: DeliverySummary;
  /** Makes every accepted sighting durable (pending in the state file); after this a reader may move on. */
  persist(): Promise<void>;
  /** Tries to deliver everything pending now; failures leave sightings pending and are in `summary.failure`. */
  deliver(): Promise<void>;
  /** Saves and releases the state file. */
  close(): Promise<void>;
}

const DELIVERED_KEPT_MS = 180 * 24 * 3600 * 1000;

export async function createGitlabSink(options: GitlabSinkOptions): Promise<GitlabSink> {
  const now = options.now ?? (() => new Date());
  const unlock = await lockState(options.stateFile);
  let state: SinkState;
  try {
    state = await loadState(options.stateFile, options.project);
  } catch (error) {
    await unlock();
    throw error;
  }
  const pendingIds = new Set(state.pending.map((s) => s.id));
  const summary: DeliverySummary = {
    received: 0, alreadyDelivered: 0, created: 0, commented: 0, reopened: 0,
    duplicatesClosed: 0, ignored: 0, pending: 0, overCap: 0, heldForWindow: 0, failure: null,
  };
  const { tracker, log } = options;

  const save = () => saveState(options.stateFile, state);

  /** Written before every GitLab write, so a restart after a crash knows which write to look for. */
  async function beginWrite(fingerprint: string, iid: number | null, sightings: Sighting[]): Promise<void> {
    state.inflight = { fingerprint, iid, ids: sightings.map((s) => s.id) };
    await save();
  }

  function acknowledge(sightings: Sighting[]): void {
    state.inflight = null;
    const at = now().toISOString();
    const done = new Set(sightings.map((s) => s.id));
    for (const id of done) state.delivered[id] = at;
    state.pending = state.pending.filter((s) => !done.has(s.id));
  }

  function link(fingerprint: string, issue: TrackedIssue, commented: boolean): IssueLink {
    const previous = state.issues[fingerprint];
    const entry: IssueLink = {
      iid: issue.iid,
      webUrl: issue.webUrl,
      lastCommentAt: commented ? now().toISOString() : (previous?.iid === issue.iid ? previous.lastCommentAt : null),
    };
    state.issues[fingerprint] = entry;
    return entry;
  }

  /** The issue of a fingerprint: the state store first, then GitLab by marker; null when there is none. */
  async function resolve(fingerprint: string): Promise<TrackedIssue | null> {
    const known = state.issues[fingerprint];
    if (known) {
      const issue = await tracker.get(known.iid);
      if (issue && fingerprintInMarker(issue.description) === fingerprint) return issue;
      log.warn({ fingerprint, iid: known.iid }, `issue #${known.iid} is gone or no longer carries racewatch's marker; leaving it alone`);
      delete state.issues[fingerprint];
    }
    const found = canonical(await tracker.findByFingerprint(fingerprint));
    if (!found) return null;
    // Found in GitLab but not in our state: a crash may have come between filing and saving.
    for (const id of occurrenceIdsInMarkers(found.description)) state.delivered[id] ??= now().toISOString();
    link(fingerprint, found, false);
    return found;
  }

  async function create(sightings: Sighting[], previous: TrackedIssue | null): Promise<void> {
    if (summary.created >= options.maxNewIssues) {
      summary.overCap += sightings.length;
      return;
    }
    const first = sightings[0]!;
    await beginWrite(first.fingerprint, null, sightings);
    const issue = await tracker.create(first.fingerprint, first.title, issueDescription(sightings, previous?.iid ?? null));
    summary.created += 1;
    counts.issuesCreated += 1;
    link(first.fingerprint, issue, true);
    acknowledge(sightings);
    await save();
    log.info({ iid: issue.iid, url: issue.webUrl, fingerprint: first.fingerprint }, `filed #${issue.iid}: ${first.title}`);
    await settleConcurrentCreation(issue, sightings, previous);
  }

  /** Two boxes that file the same new race at once: the younger issue closes as a duplicate of the older. */
  async function settleConcurrentCreation(mine: TrackedIssue, sightings: Sighting[], previous: TrackedIssue | null): Promise<void> {
    const fingerprint = sightings[0]!.fingerprint;
    const older = (await tracker.findByFingerprint(fingerprint)).find(
      (issue) => issue.iid < mine.iid && issue.iid !== previous?.iid && issue.state === 'opened',
    );
    if (!older) return;
    await tracker.comment(mine.iid, duplicateComment(older.iid));
    await tracker.setState(mine.iid, 'close');
    await beginWrite(fingerprint, older.iid, sightings);
    await tracker.comment(older.iid, sightingsComment(sightings, 'duplicate-filed'), sightings.map((s) => s.id));
    summary.duplicatesClosed += 1;
    link(fingerprint, older, true);
    await save();
    log.info({ duplicate: mine.iid, canonical: older.iid }, `#${mine.iid} closed as a duplicate of #${older.iid}`);
  }

  async function update(issue: TrackedIssue, sightings: Sighting[]): Promise<void> {
    const fingerprint = sightings[0]!.fingerprint;
    if (issue.labels.includes(options.ignoreLabel)) {
      summary.ignored += sightings.length;
      acknowledge(sightings);
      await save();
      return;
    }
    if (issue.state === 'closed') return cameBack(issue, sightings);
    const last = state.issues[fingerprint]?.lastCommentAt;
    if (options.commentWindowMs > 0 && last && now().getTime() - Date.parse(last) < options.commentWindowMs) {
      summary.heldForWindow += sightings.length;
      return;
    }
    await beginWrite(fingerprint, issue.iid, sightings);
    await tracker.comment(issue.iid, sightingsComment(sightings, 'seen-again'), sightings.map((s) => s.id));
    summary.commented += 1;
    counts.commentsPosted += 1;
    link(fingerprint, issue, true);
    acknowledge(sightings);
    await save();
  }

  async function cameBack(issue: TrackedIssue, sightings: Sighting[]): Promise<void> {
    if (options.reopenPolicy === 'new-issue') return create(sightings, issue);
    if (options.reopenPolicy === 'reopen') {
      await tracker.setState(issue.iid, 'reopen');
      summary.reopened += 1;
    }
    await beginWrite(sightings[0]!.fingerprint, issue.iid, sightings);
    await tracker.comment(issue.iid, sightingsComment(sightings, 'came-back'), sightings.map((s) => s.id));
    summary.commented += 1;
    counts.commentsPosted += 1;
    link(sightings[0]!.fingerprint, issue, true);
    acknowledge(sightings);
    await save();
  }

  async function deliver(fingerprint: string, sightings: Sighting[]): Promise<void> {
    const issue = await resolve(fingerprint);
    // Resolving may have found these sightings already recorded in GitLab (a crash before the state was saved).
    const fresh = sightings.filter((s) => !state.delivered[s.id]);
    if (fresh.length < sightings.length) {
      acknowledge(sightings);
      await save();
    }
    if (fresh.length === 0) return;
    if (issue) await update(issue, fresh);
    else await create(fresh, null);
  }

  /** A write whose answer was lost to a crash: find what GitLab recorded of it before writing again. */
  async function recoverInflight(): Promise<void> {
    const inflight = state.inflight;
    if (!inflight) return;
    if (inflight.iid !== null) {
      const bodies = await tracker.recentNoteBodies(inflight.iid);
      const recorded = new Set(bodies.flatMap((body) => occurrenceIdsInMarkers(body)));
      const done = state.pending.filter((s) => recorded.has(s.id));
      if (done.length > 0) log.info({ iid: inflight.iid, sightings: done.length }, 'found the comment of an interrupted run; not posting it again');
      acknowledge(done);
    }
    state.inflight = null;
    await save();
  }

  async function deliverAll(): Promise<void> {
    if (state.pending.length === 0 && !state.inflight) return;
    await recoverInflight();
    if (state.pending.length === 0) return;
    await tracker.ensureLabels();
    const groups = new Map<string, Sighting[]>();
    for (const sighting of state.pending) groups.set(sighting.fingerprint, [...(groups.get(sighting.fingerprint) ?? []), sighting]);
    for (const [fingerprint, sightings] of groups) {
      try {
        await deliver(fingerprint, sightings);
      } catch (error) {
        if (error instanceof GitlabUnavailableError || error instanceof GitlabConfigurationError) throw error;
        if (!(error instanceof GitlabHttpError)) throw error;
        summary.failure = error;
        log.error({ fingerprint, status: error.status }, `could not deliver ${sightings.length} sighting(s) of ${fingerprint}: ${error.message}; they stay pending`);
      }
    }
  }

  const sink: GitlabSink = {
    summary,
    async accept(occurrence: RaceOccurrence) {
      summary.received += 1;
      if (state.delivered[occurrence.id] || pendingIds.has(occurrence.id)) {
        summary.alreadyDelivered += 1;
        return;
      }
      pendingIds.add(occurrence.id);
      state.pending.push(toSighting(occurrence, options.host, now()));
    },
    async persist() {
      await save();
    },
    async deliver() {
      summary.failure = null;
      try {
        await deliverAll();
      } catch (error) {
        summary.failure = error as Error;
        if (!(error instanceof GitlabUnavailableError)) throw error;
        log.error(`${(error as Error).message}; ${state.pending.length} sighting(s) stay pending for the next attempt`);
      } finally {
        summary.pending = state.pending.length;
        counts.sightingsPending = summary.pending;
        pruneDelivered(state, now());
        await save();
      }
    },
    async close() {
      await save().finally(unlock);
    },
    async finish() {
      try {
        await sink.deliver();
      } finally {
        await sink.close();
      }
    },
  };
  return sink;
}

/** The oldest open issue (others are concurrent duplicates), else the newest closed one (older ones were re-filed). */
function canonical(issues: TrackedIssue[]): TrackedIssue | null {
  return issues.find((issue) => issue.state === 'opened') ?? issues[issues.length - 1] ?? null;
}

function pruneDelivered(state: SinkState, now: Date): void {
  const oldest = now.getTime() - DELIVERED_KEPT_MS;
  for (const [id, at] of Object.entries(state.delivered)) if (Date.parse(at) < oldest) delete state.delivered[id];
}
