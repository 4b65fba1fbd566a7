import type { Logger } from '../../log/logger.js';
import { counts } from '../../observability/metrics.js';
import type { RaceOccurrence } from '../../pipeline/occurrence.js';
import { lockState } from '../../state/sink-state.js';
import type { DurableSink } from '../sink.js';
import { GitlabConfigurationError, GitlabHttpError, GitlabStoppedError, GitlabUnavailableError } from './errors.js';
import { emptySummary, IssuePolicy, type DeliverySummary, type ReopenPolicy } from './issue-policy.js';
import { Outbox } from './outbox.js';
import { toSighting } from './sighting.js';
import type { IssueTracker } from './tracker.js';

export type { DeliverySummary, ReopenPolicy };

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

export interface GitlabSink extends DurableSink {
  readonly summary: DeliverySummary;
  /** Tries to deliver everything pending now; failures leave sightings pending and are in `summary.failure`. */
  deliver(): Promise<void>;
  /** No GitLab request starts after this, and those under way are abandoned (their records resolve them next run). */
  abandonRequests(): void;
  /** The last save, then the state file is released; nothing is written after. */
  close(): Promise<void>;
}

/** The GitLab sink: an outbox on disk, drained into GitLab by the issue policy. */
export async function createGitlabSink(options: GitlabSinkOptions): Promise<GitlabSink> {
  const now = options.now ?? (() => new Date());
  const unlock = await lockState(options.stateFile);
  let outbox: Outbox;
  try {
    outbox = await Outbox.open(options.stateFile, options.project, now);
  } catch (error) {
    await unlock();
    throw error;
  }
  const summary = emptySummary();
  const { tracker, log } = options;
  const policy = new IssuePolicy(tracker, outbox, { ...options, now }, summary, log);

  async function deliverAll(): Promise<void> {
    if (outbox.pendingCount === 0 && !outbox.inflight && outbox.state.settling.length === 0 && outbox.state.unlinked.length === 0) return;
    await policy.recoverInflight();
    await tracker.ensureLabels();
    await policy.settleAll();
    const groups = [...outbox.pendingByBug(), ...outbox.unlinkedWithoutPending().map((bug) => ({ bug, sightings: [] }))];
    for (const { bug, sightings } of groups) {
      try {
        await policy.deliver(bug, sightings);
      } catch (error) {
        if (!(error instanceof GitlabHttpError)) throw error;
        summary.failure = error;
        const { fingerprint } = bug;
        log.error(
          { fingerprint, status: error.status },
          `could not deliver ${sightings.length} sighting(s) of ${fingerprint}: ${error.message}; they stay pending`,
        );
      }
    }
  }

  const sink: GitlabSink = {
    summary,
    async accept(occurrence: RaceOccurrence) {
      summary.received += 1;
      const sighting = toSighting(occurrence, options.host, now());
      if (outbox.accept(sighting)) return;
      summary.alreadyDelivered += 1;
      outbox.rememberKey(sighting);
    },
    persist: () => outbox.save(),
    async deliver() {
      summary.failure = null;
      try {
        await deliverAll();
      } catch (error) {
        summary.failure = error as Error;
        if (error instanceof GitlabConfigurationError) throw error;
        if (!(error instanceof GitlabUnavailableError || error instanceof GitlabStoppedError)) throw error;
        log.error(`${(error as Error).message}; ${outbox.pendingCount} sighting(s) stay pending for the next attempt`);
      } finally {
        summary.pending = outbox.pendingCount;
        counts.sightingsPending = summary.pending;
        // A daemon runs for months: forget old delivered ids on every delivery, not only at its stop.
        outbox.prune();
        await outbox.save();
      }
    },
    abandonRequests: () => tracker.client.stop(),
    async close() {
      await outbox.close().finally(unlock);
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
