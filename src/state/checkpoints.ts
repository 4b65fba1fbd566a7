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
const fileSchema = z.object({ schema: z.literal(CHECKPOINT_SCHEMA_VERSION), files: z.array(checkpointSchema) });

export function checkpointFile(stateDir: string): string {
  return path.join(stateDir, 'files.json');
}

export async function loadCheckpoints(file: string): Promise<Checkpoint[]> {
  const empty = { schema: CHECKPOINT_SCHEMA_VERSION, files: [] as Checkpoint[] } as const;
  return (await readStateFile(file, fileSchema, CHECKPOINT_SCHEMA_VERSION, () => empty)).files;
}

export async function saveCheckpoints(file: string, checkpoints: Checkpoint[]): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify({ schema: CHECKPOINT_SCHEMA_VERSION, files: checkpoints })}\n`);
}
