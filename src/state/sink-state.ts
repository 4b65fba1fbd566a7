import { mkdir, open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import * as z from 'zod/mini';
import '../validation/english-messages.js';
import { writeFileAtomic } from './atomic-file.js';
import { readStateFile } from './json-file.js';

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

export const STATE_SCHEMA_VERSION = 1;

const stateSchema = z.object({
  schema: z.literal(STATE_SCHEMA_VERSION),
  project: z.string(),
  issues: z.record(z.string(), issueSchema),
  pending: z.array(sightingSchema),
  /** occurrence id → when GitLab acknowledged it. */
  delivered: z.record(z.string(), z.string()),
  /** The GitLab write under way (added after schema 1 shipped: files without it read as none). */
  inflight: z._default(
    z.nullable(z.object({ fingerprint: z.string(), iid: z.nullable(z.number()), ids: z.array(z.string()) })),
    null,
  ),
});
export type SinkState = z.infer<typeof stateSchema>;

export class StateLockedError extends Error {
  constructor(file: string, pid: number) {
    super(`another racewatch (pid ${pid}) is using ${file}; run one racewatch per state directory`);
    this.name = 'StateLockedError';
  }
}

export function emptyState(project: string): SinkState {
  return { schema: STATE_SCHEMA_VERSION, project, issues: {}, pending: [], delivered: {}, inflight: null };
}

export function stateFileFor(stateDir: string, project: string): string {
  return path.join(stateDir, `gitlab-${project.replace(/[^A-Za-z0-9._-]+/g, '_')}.json`);
}

export async function loadState(file: string, project: string): Promise<SinkState> {
  return readStateFile(file, stateSchema, STATE_SCHEMA_VERSION, () => emptyState(project));
}

export async function saveState(file: string, state: SinkState): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(state)}\n`);
}

// Locks this process holds: a lock file with our own pid is ours only if it is in here (pids get reused).
const heldLocks = new Set<string>();

/** One writer per state file: a lock file holding the owner's pid; a lock left by a dead process is taken over. */
export async function lockState(file: string): Promise<() => Promise<void>> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const lock = `${file}.lock`;
  if (heldLocks.has(lock)) throw new StateLockedError(file, process.pid);
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const handle = await open(lock, 'wx', 0o600);
      await handle.writeFile(String(process.pid));
      await handle.close();
      heldLocks.add(lock);
      return async () => {
        heldLocks.delete(lock);
        await rm(lock, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number((await readFile(lock, 'utf8').catch(() => '')).trim());
      if (owner > 0 && owner !== process.pid && isAlive(owner)) throw new StateLockedError(file, owner);
      // A dead owner's lock, or our own pid left by an earlier process that had it.
      await rm(lock, { force: true });
    }
  }
  throw new StateLockedError(file, Number.NaN);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
