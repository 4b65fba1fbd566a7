import { randomBytes } from 'node:crypto';
import type { GitlabClient } from './client.js';
import { GitlabHttpError, GitlabUnavailableError, isRetryable, mayHaveTakenEffect } from './errors.js';

/**
 * A GitLab write that must take effect once. Its text carries a delivery id chosen (and saved by the caller)
 * before the first send; when an attempt fails in a way GitLab may still have carried out (no answer, a
 * 5xx), racewatch looks for that id for the settle time before it sends again. GitLab itself gives up on a
 * request after its worker timeout (60 s by default), so a write not seen by then will never appear.
 */
export interface ExactlyOnceWrite<T> {
  what: string;
  send(): Promise<T>;
  /** The write as GitLab recorded it, found by its delivery id; null when GitLab has no such write. */
  find(): Promise<T | null>;
  /** Called before every send, to save when it was sent (a crash right after must know to look for it). */
  beforeSend(sentAt: Date): Promise<void>;
}

export function newDeliveryId(): string {
  return randomBytes(8).toString('hex');
}

export async function writeExactlyOnce<T>(client: GitlabClient, write: ExactlyOnceWrite<T>): Promise<T> {
  const { retries } = client.connection;
  let lookUntil: number | null = null;
  for (let retry = 0; ; retry += 1) {
    if (lookUntil !== null) {
      const found = await findWithin(client, write.find, lookUntil);
      if (found !== null) return found;
    }
    const sentAt = new Date();
    await write.beforeSend(sentAt);
    try {
      return await client.attempt(write.what, write.send);
    } catch (error) {
      if (!isRetryable(error)) throw error;
      lookUntil = mayHaveTakenEffect(error) ? settledAt(error, sentAt.getTime(), client.connection.settleMs) : null;
      if (lookUntil === null && retry < retries) await client.pauseBeforeRetry(error, retry);
      if (retry >= retries) {
        const found = lookUntil === null ? null : await findWithin(client, write.find, lookUntil);
        if (found !== null) return found;
        throw new GitlabUnavailableError(retry + 1, error as Error);
      }
    }
  }
}

/**
 * When GitLab's application answered 500 it had finished with the request: one look tells. No answer, or
 * a proxy's 502/503/504, means it may still be working on it.
 */
function settledAt(error: unknown, sentAt: number, settleMs: number): number {
  return error instanceof GitlabHttpError && error.status === 500 ? Date.now() : sentAt + settleMs;
}

const FIRST_LOOK_MS = 250;
const LONGEST_LOOK_MS = 10_000;

/**
 * Looks for a write until it appears or the deadline passes (then null: GitLab never carried it out).
 * Lookups that fail throw after their own retries: the write stays unresolved, for a later run.
 */
export async function findWithin<T>(client: GitlabClient, find: () => Promise<T | null>, deadline: number): Promise<T | null> {
  for (let pause = FIRST_LOOK_MS; ; pause = Math.min(pause * 2, LONGEST_LOOK_MS)) {
    const found = await find();
    if (found !== null) return found;
    const left = deadline - Date.now();
    if (left <= 0) return null;
    await client.pause(Math.min(pause, left));
  }
}
