import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { describeFsError, InputError, STDIN_PATH, type SourceFile } from './expand.js';

const CHUNK_BYTES = 1024 * 1024;
const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);

export interface OpenedSource {
  /** Decoded content (gunzipped when the file is gzip). */
  chunks: AsyncIterable<Buffer>;
  /** Bytes read from disk so far, for progress against the file size. */
  bytesFromDisk(): number;
}

/** Opens a file, a gzip file (by content, not by name: rotated logs are not always named .gz) or stdin. */
export async function openSource(file: SourceFile, stdin: Readable = process.stdin): Promise<OpenedSource> {
  if (file.path === STDIN_PATH) return plain(stdin, file.path);
  const gzip = await startsWithGzipMagic(file.path);
  const raw = createReadStream(file.path, { highWaterMark: CHUNK_BYTES });
  return gzip ? gunzipped(raw, file.path) : plain(raw, file.path);
}

function plain(stream: Readable, name: string): OpenedSource {
  let fromDisk = 0;
  return {
    chunks: (async function* () {
      for await (const chunk of readChunks(stream, name)) {
        fromDisk += chunk.length;
        yield chunk;
      }
    })(),
    bytesFromDisk: () => fromDisk,
  };
}

function gunzipped(raw: Readable, name: string): OpenedSource {
  let fromDisk = 0;
  const gunzip = createGunzip({ chunkSize: CHUNK_BYTES });
  raw.on('error', (error) => gunzip.destroy(error));
  raw.on('data', (chunk: Buffer) => {
    fromDisk += chunk.length;
  });
  raw.pipe(gunzip);
  return { chunks: readChunks(gunzip, name), bytesFromDisk: () => fromDisk };
}

async function startsWithGzipMagic(filePath: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(filePath, 'r');
    const probe = Buffer.alloc(2);
    const { bytesRead } = await handle.read(probe, 0, 2, 0);
    return bytesRead === 2 && probe.equals(GZIP_MAGIC);
  } catch (error) {
    throw new InputError(filePath, describeFsError(error));
  } finally {
    await handle?.close();
  }
}

async function* readChunks(stream: Readable, name: string): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of stream) yield chunk as Buffer;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const what = code?.startsWith('Z_') ? `not a valid gzip stream (${(error as Error).message})` : describeFsError(error);
    throw new InputError(name, what);
  }
}
