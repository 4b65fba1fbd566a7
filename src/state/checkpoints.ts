import path from 'node:path';
import * as z from 'zod/mini';
import '../validation/english-messages.js';
import { writeFileAtomic } from './atomic-file.js';
import { readStateFile } from './json-file.js';

/**
 * Where reading each log resumes: per file, its identity (device, inode, first bytes) and the offset of
 * the first byte not yet handed to the sink (the marker of a report still open), with a hash of the bytes
 * just before that offset, so a file truncated and rewritten past the offset is noticed. This module only
 * stores them: which checkpoint is whose, whether it still holds and what to save are src/source/resume.ts.
 */
const checkpointSchema = z.object({
  path: z.string(),
  dev: z.number(),
  ino: z.number(),
  head: z.string(),
  offset: z.number(),
  line: z.number(),
  mark: z.string(),
  updatedAt: z.string(),
});
export type Checkpoint = z.infer<typeof checkpointSchema>;

export const CHECKPOINT_SCHEMA_VERSION = 1;
const fileSchema = z.object({
  schema: z.literal(CHECKPOINT_SCHEMA_VERSION),
  files: z.array(checkpointSchema),
  /**
   * When the listing of the paths behind these checkpoints began: a rotated generation born after it was
   * never seen (src/source/generations.ts). Optional, so that files of earlier releases still load (and
   * theirs ignore it).
   */
  listedAt: z.optional(z.string()),
});

/** The saved read positions, and when the paths they belong to were last listed (null: never, or unknown). */
export interface Positions {
  files: Checkpoint[];
  listedAt: number | null;
}

export function checkpointFile(stateDir: string): string {
  return path.join(stateDir, 'files.json');
}

export async function loadPositions(file: string): Promise<Positions> {
  const empty: z.infer<typeof fileSchema> = { schema: CHECKPOINT_SCHEMA_VERSION, files: [] };
  const saved = await readStateFile(file, fileSchema, CHECKPOINT_SCHEMA_VERSION, () => empty);
  const listedAt = saved.listedAt === undefined ? Number.NaN : Date.parse(saved.listedAt);
  return { files: saved.files, listedAt: Number.isNaN(listedAt) ? null : listedAt };
}

export async function savePositions(file: string, { files, listedAt }: Positions): Promise<void> {
  const listed = listedAt === null ? {} : { listedAt: new Date(listedAt).toISOString() };
  await writeFileAtomic(file, `${JSON.stringify({ schema: CHECKPOINT_SCHEMA_VERSION, files, ...listed })}\n`);
}
