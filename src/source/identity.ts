import { createReadStream } from 'node:fs';
import { type FileHandle, open, stat } from 'node:fs/promises';
import { HEAD_BYTES } from '../pipeline/extract.js';
import { describeFsError, InputError } from './expand.js';
import { GZIP_MAGIC, gunzipPipe } from './streams.js';

/** What tells one log file from another across renames, rotation, truncation and gzip. */
export interface FileIdentity {
  path: string;
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
  /** When the file was created, where the filesystem keeps it (statx): orders the generations of a log. */
  bornAt: number | null;
  gzip: boolean;
  /** The first bytes of the content (decompressed for gzip), at most HEAD_BYTES. */
  head: Buffer;
}

export async function identify(path: string): Promise<FileIdentity> {
  try {
    const info = await stat(path);
    const raw = await readRange(path, 0, HEAD_BYTES);
    const gzip = raw.subarray(0, 2).equals(GZIP_MAGIC);
    const head = gzip ? await gunzippedHead(path) : raw;
    return { path, dev: info.dev, ino: info.ino, size: info.size, mtimeMs: info.mtimeMs, bornAt: bornAtOf(info), gzip, head };
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(path, describeFsError(error));
  }
}

/**
 * The identity of a file already open, read through its handle: a path can name another file a moment
 * later (rotation), a handle cannot. For gzip only the flag is exact; `head` is then the raw bytes.
 */
export async function identifyOpen(handle: FileHandle, path: string): Promise<FileIdentity> {
  const info = await handle.stat();
  const buffer = Buffer.alloc(HEAD_BYTES);
  const { bytesRead } = await handle.read(buffer, 0, HEAD_BYTES, 0);
  const head = buffer.subarray(0, bytesRead);
  return {
    path,
    dev: info.dev,
    ino: info.ino,
    size: info.size,
    mtimeMs: info.mtimeMs,
    bornAt: bornAtOf(info),
    gzip: head.subarray(0, 2).equals(GZIP_MAGIC),
    head,
  };
}

function bornAtOf(info: { birthtimeMs: number }): number | null {
  return info.birthtimeMs > 0 ? info.birthtimeMs : null;
}

export async function readRange(path: string, start: number, length: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, start);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

async function gunzippedHead(path: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  let length = 0;
  const gunzip = gunzipPipe(createReadStream(path));
  try {
    for await (const chunk of gunzip) {
      parts.push(chunk as Buffer);
      length += (chunk as Buffer).length;
      if (length >= HEAD_BYTES) break;
    }
  } catch {
    // A damaged gzip still has a head up to the damage; reading it later reports the damage.
  } finally {
    gunzip.destroy();
  }
  return Buffer.concat(parts).subarray(0, HEAD_BYTES);
}
