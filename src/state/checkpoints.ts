import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { FileIdentity } from '../source/identity.js';
import { writeFileAtomic } from './atomic-file.js';
import { StateCorruptError } from './sink-state.js';

/**
 * Where reading each log resumes: per file, its identity (device, inode, first bytes) and the offset of
 * the first byte not yet handed to the sink (the marker of a report still open), with a hash of the bytes
 * just before that offset, so a file truncated and rewritten past the offset is noticed.
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

export const MARK_BYTES = 1024;
// Heads shorter than this say too little to recognise a file by content alone.
const MIN_HEAD_FOR_CONTENT_MATCH = 64;

export function checkpointFile(stateDir: string): string {
  return path.join(stateDir, 'files.json');
}

export async function loadCheckpoints(file: string): Promise<Checkpoint[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new StateCorruptError(file, (error as Error).message);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new StateCorruptError(file, text.trim() === '' ? 'the file is empty' : `not valid JSON: ${(error as Error).message}`);
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) throw new StateCorruptError(file, z.prettifyError(parsed.error).replace(/\n/g, ' '));
  return parsed.data.files;
}

export async function saveCheckpoints(file: string, checkpoints: Checkpoint[]): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify({ schema: CHECKPOINT_SCHEMA_VERSION, files: checkpoints })}\n`);
}

export function markOf(bytesBeforeOffset: Buffer): string {
  return createHash('sha256').update(bytesBeforeOffset).digest('hex');
}

function headsAgree(saved: Buffer, current: Buffer): boolean {
  const length = Math.min(saved.length, current.length);
  return saved.subarray(0, length).equals(current.subarray(0, length));
}

/**
 * The checkpoint that belongs to this file: the same inode with an agreeing head (the file itself, maybe
 * renamed), else the same content under another inode (a rotated copy or its gzip).
 */
export function findCheckpoint(checkpoints: Checkpoint[], identity: FileIdentity): Checkpoint | null {
  const sameInode = checkpoints.find(
    (c) => c.dev === identity.dev && c.ino === identity.ino && headsAgree(Buffer.from(c.head, 'base64'), identity.head),
  );
  if (sameInode) return sameInode;
  return (
    checkpoints.find((c) => {
      const head = Buffer.from(c.head, 'base64');
      return Math.min(head.length, identity.head.length) >= MIN_HEAD_FOR_CONTENT_MATCH && headsAgree(head, identity.head);
    }) ?? null
  );
}
