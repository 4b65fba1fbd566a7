import path from 'node:path';
import * as z from 'zod/mini';
import '../validation/english-messages.js';
// Schema 2 held Go race sightings only: upgrading them needs that format's keys.
import { unidentifiedReportKey } from '../../parsers/go-race/key.js';
import { V1_PLACEHOLDERS } from '../../parsers/go-race/legacy/gorace-v1.js';
import { readStateFile } from './json-file.js';

export { lockState, StateLockedError } from './lock.js';

/**
 * What the GitLab sink must remember between runs: which issue each fingerprint has, sightings GitLab has
 * not acknowledged yet, and occurrences already delivered (so a re-scan files nothing twice).
 */
/** Schema 2's sighting: the key alone said where it belonged. */
const schemaTwoSightingFields = {
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
};
const schemaTwoSighting = z.object(schemaTwoSightingFields);

/**
 * Where a bug's sightings belong, besides its key (see BugIdentity in fingerprint.ts): every key its issue may
 * answer to (the key first, then those earlier releases gave it), the keys of its sides, and earlier keys that
 * named many bugs at once.
 */
const bugLookupFields = {
  fingerprint: z.string(),
  kind: z.enum(['complete', 'half', 'incomplete']),
  keys: z.array(z.string()),
  sideKeys: z.array(z.string()),
  formerShared: z.array(z.string()),
};
const bugLookupSchema = z.object(bugLookupFields);
export type BugLookup = z.infer<typeof bugLookupSchema>;

const sightingSchema = z.object({
  ...schemaTwoSightingFields,
  ...bugLookupFields,
  /** The sides a half or incomplete report lost, and why (`lost`, `cut`, ...): the issue text says so. */
  unknownSides: z.array(z.object({ access: z.string(), reason: z.string() })),
  /** The report's format (parsers/registry.ts); sightings saved before there were several formats are Go race ones. */
  format: z._default(z.string(), 'go-race'),
});
export type Sighting = z.infer<typeof sightingSchema>;

const issueSchema = z.object({
  iid: z.number(),
  webUrl: z.string(),
  lastCommentAt: z.nullable(z.string()),
});
export type IssueLink = z.infer<typeof issueSchema>;

export const STATE_SCHEMA_VERSION = 3;

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

/** An issue this box created that may turn out to be a concurrent duplicate of another box's (found by its keys). */
const settlingSchema = z.object({ fingerprint: z.string(), keys: z.array(z.string()), iid: z.number() });
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
  /**
   * Bugs seen again with every sighting delivered already, whose key no issue is known to answer to yet (the
   * report's key changed in an upgrade): the next delivery finds their issue and writes the key into its marker.
   */
  unlinked: z.array(bugLookupSchema),
});
export type SinkState = z.infer<typeof stateSchema>;

/** Schema 1 had no delivery ids: its write under way is looked for by its occurrence ids instead. */
const schemaOneInflight = z.nullable(z.object({ fingerprint: z.string(), iid: z.nullable(z.number()), ids: z.array(z.string()) }));
export const LEGACY_DELIVERY_ID = '';

const schemaTwo = z.object({
  schema: z.literal(2),
  project: z.string(),
  issues: z.record(z.string(), issueSchema),
  pending: z.array(schemaTwoSighting),
  delivered: z.record(z.string(), z.string()),
  inflight: z.nullable(inflightSchema),
  settling: z.array(z.object({ fingerprint: z.string(), iid: z.number() })),
});
type SchemaTwoState = z.infer<typeof schemaTwo>;

const schemaOne = z.pipe(
  z.object({
    schema: z.literal(1),
    project: z.string(),
    issues: z.record(z.string(), issueSchema),
    pending: z.array(schemaTwoSighting),
    delivered: z.record(z.string(), z.string()),
    inflight: z._default(schemaOneInflight, null),
  }),
  z.transform(
    (old): SchemaTwoState => ({
      ...old,
      schema: 2,
      inflight:
        old.inflight && old.inflight.iid !== null ? { ...old.inflight, deliveryId: LEGACY_DELIVERY_ID, kind: 'note', sentAt: new Date(0).toISOString() } : null,
      settling: [],
    }),
  ),
);

/**
 * Schema 2 (racewatch 0.1) keyed sightings by their gorace-v1 key alone. Its pending sightings keep that key,
 * which finds the issue 0.1 would have used, except a sighting of a report without frames: its key named every
 * such report of every bug, so it gets a key of its own (as gorace-v2 gives such a report) and the old one is
 * only read to learn what GitLab already holds.
 */
function toSchemaThree(old: SchemaTwoState): SinkState {
  return {
    ...old,
    schema: STATE_SCHEMA_VERSION,
    pending: old.pending.map(upgradeSighting),
    settling: old.settling.map((issue) => ({ ...issue, keys: [issue.fingerprint] })),
    unlinked: [],
  };
}

function upgradeSighting(old: z.infer<typeof schemaTwoSighting>): Sighting {
  const unknown = old.sides.filter((side) => side.length === 1 && V1_PLACEHOLDERS.includes(side[0]!)).length;
  const base = { ...old, format: 'go-race', sideKeys: [], unknownSides: [] };
  if (unknown < 2) return { ...base, kind: unknown === 1 ? 'half' : 'complete', keys: [old.fingerprint], formerShared: [] };
  const key = unidentifiedReportKey(old.text);
  return { ...base, kind: 'incomplete', fingerprint: key, keys: [key], formerShared: [old.fingerprint] };
}

const anySchema = z.union([stateSchema, z.pipe(z.union([schemaTwo, schemaOne]), z.transform(toSchemaThree))]);

export function emptyState(project: string): SinkState {
  return { schema: STATE_SCHEMA_VERSION, project, issues: {}, pending: [], delivered: {}, inflight: null, settling: [], unlinked: [] };
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
