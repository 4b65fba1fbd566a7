import path from 'node:path';
import * as z from 'zod/mini';
import '../validation/english-messages.js';
import { readStateFile } from './json-file.js';

export { lockState, StateLockedError } from './lock.js';

/**
 * What the GitLab sink must remember between runs: which issue each fingerprint has, sightings GitLab has
 * not acknowledged yet, and occurrences already delivered (so a re-scan files nothing twice).
 */
const sightingSchema = z.object({
  id: z.string(),
  fingerprint: z.string(),
  title: z.string(),
  sides: z.array(z.array(z.string())),
  host: z.string(),
  source: z.string(),
  line: z.number(),
  seenAt: z.string(),
  truncated: z.boolean(),
  text: z.string(),
  racingFrames: z.array(z.string()),
  creationSites: z.array(z.string()),
});
export type Sighting = z.infer<typeof sightingSchema>;

const issueSchema = z.object({
  iid: z.number(),
  webUrl: z.string(),
  lastCommentAt: z.nullable(z.string()),
});
export type IssueLink = z.infer<typeof issueSchema>;

export const STATE_SCHEMA_VERSION = 2;

/**
 * A GitLab write under way, saved before its request is sent: after a crash, a timeout or a lost answer the
 * next attempt looks for its delivery id in GitLab before it sends anything again.
 */
const inflightSchema = z.object({
  deliveryId: z.string(),
  kind: z.enum(['create', 'note']),
  fingerprint: z.string(),
  /** The issue a note goes to; null for a create. */
  iid: z.nullable(z.number()),
  ids: z.array(z.string()),
  /** When the request was last sent: GitLab may still carry it out until this plus the settle time. */
  sentAt: z.string(),
});
export type InflightWrite = z.infer<typeof inflightSchema>;

/** An issue this box created that may turn out to be a concurrent duplicate of another box's. */
const settlingSchema = z.object({ fingerprint: z.string(), iid: z.number() });
export type SettlingIssue = z.infer<typeof settlingSchema>;

const stateSchema = z.object({
  schema: z.literal(STATE_SCHEMA_VERSION),
  project: z.string(),
  issues: z.record(z.string(), issueSchema),
  pending: z.array(sightingSchema),
  /** occurrence id → when GitLab acknowledged it. */
  delivered: z.record(z.string(), z.string()),
  inflight: z.nullable(inflightSchema),
  settling: z.array(settlingSchema),
});
export type SinkState = z.infer<typeof stateSchema>;

/** Schema 1 had no delivery ids: its write under way is looked for by its occurrence ids instead. */
const schemaOneInflight = z.nullable(z.object({ fingerprint: z.string(), iid: z.nullable(z.number()), ids: z.array(z.string()) }));
export const LEGACY_DELIVERY_ID = '';

const anySchema = z.union([
  stateSchema,
  z.pipe(
    z.object({
      schema: z.literal(1),
      project: z.string(),
      issues: z.record(z.string(), issueSchema),
      pending: z.array(sightingSchema),
      delivered: z.record(z.string(), z.string()),
      inflight: z._default(schemaOneInflight, null),
    }),
    z.transform(
      (old): SinkState => ({
        ...old,
        schema: STATE_SCHEMA_VERSION,
        inflight:
          old.inflight && old.inflight.iid !== null
            ? { ...old.inflight, deliveryId: LEGACY_DELIVERY_ID, kind: 'note', sentAt: new Date(0).toISOString() }
            : null,
        settling: [],
      }),
    ),
  ),
]);

export function emptyState(project: string): SinkState {
  return { schema: STATE_SCHEMA_VERSION, project, issues: {}, pending: [], delivered: {}, inflight: null, settling: [] };
}

export function stateFileFor(stateDir: string, project: string): string {
  return path.join(stateDir, `gitlab-${project.replace(/[^A-Za-z0-9._-]+/g, '_')}.json`);
}

export async function loadState(file: string, project: string): Promise<SinkState> {
  return readStateFile(file, anySchema, STATE_SCHEMA_VERSION, () => emptyState(project));
}

export function serializeState(state: SinkState): string {
  return `${JSON.stringify(state)}\n`;
}
