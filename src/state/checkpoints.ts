import { createHash } from 'node:crypto';
import path from 'node:path';
import * as z from 'zod/mini';
import '../validation/english-messages.js';
import type { FileIdentity } from '../source/identity.js';
import { writeFileAtomic } from './atomic-file.js';
import { readStateFile } from './json-file.js';

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
  const empty = { schema: CHECKPOINT_SCHEMA_VERSION, files: [] as Checkpoint[] } as const;
  return (await readStateFile(file, fileSchema, CHECKPOINT_SCHEMA_VERSION, () => empty)).files;
}

export async function saveCheckpoints(file: string, checkpoints: Checkpoint[]): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify({ schema: CHECKPOINT_SCHEMA_VERSION, files: checkpoints })}\n`);
}

/** The checkpoint of a file read up to `resume`, given the bytes just before that position. */
export function checkpointOf(
  file: { path: string; dev: number; ino: number },
  resume: { offset: number; line: number; head: Buffer },
  bytesBefore: Buffer,
): Checkpoint {
  return {
    path: file.path,
    dev: file.dev,
    ino: file.ino,
    head: resume.head.toString('base64'),
    offset: resume.offset,
    line: resume.line,
    mark: markOf(bytesBefore),
    updatedAt: new Date().toISOString(),
  };
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
  const sameInode = checkpoints.find((c) => c.dev === identity.dev && c.ino === identity.ino && headsAgree(Buffer.from(c.head, 'base64'), identity.head));
  if (sameInode) return sameInode;
  return (
    checkpoints.find((c) => {
      const head = Buffer.from(c.head, 'base64');
      return Math.min(head.length, identity.head.length) >= MIN_HEAD_FOR_CONTENT_MATCH && headsAgree(head, identity.head);
    }) ?? null
  );
}
