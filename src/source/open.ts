import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
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
  if (!gzip) return regularFile(file.path);
  return gunzipped(createReadStream(file.path, { highWaterMark: CHUNK_BYTES }), file.path);
}

// Small enough to stay in the CPU cache between the read and the scan of it: measured here, 64 KiB chunks
// read and scanned about twice as fast as 1 MiB ones.
const FILE_CHUNK_BYTES = 64 * 1024;

/**
 * A regular file read synchronously into one reused buffer: a one-off scan has nothing else to do
 * meanwhile, and an asynchronous read per 64 KiB costs more than the scan of it. Each chunk is valid only
 * until the next one is asked for (the extractor copies whatever it keeps).
 */
function regularFile(name: string): OpenedSource {
  let fromDisk = 0;
  async function* chunks(): AsyncGenerator<Buffer> {
    let fd: number;
    try {
      fd = openSync(name, 'r');
    } catch (error) {
      throw new InputError(name, describeFsError(error));
    }
    const buffer = Buffer.allocUnsafe(FILE_CHUNK_BYTES);
    try {
      for (;;) {
        let bytesRead: number;
        try {
          bytesRead = readSync(fd, buffer, 0, buffer.length, null);
        } catch (error) {
          throw new InputError(name, describeFsError(error));
        }
        if (bytesRead === 0) return;
        fromDisk += bytesRead;
        yield buffer.subarray(0, bytesRead);
      }
    } finally {
      closeSync(fd);
    }
  }
  return { chunks: chunks(), bytesFromDisk: () => fromDisk };
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
