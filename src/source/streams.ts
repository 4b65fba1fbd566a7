import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { describeFsError, InputError } from './expand.js';

export const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);
const CHUNK_BYTES = 1024 * 1024;

/** Gunzips a file's byte stream; a read error of the file ends the gunzipped stream with that error. */
export function gunzipPipe(raw: Readable): Readable {
  const gunzip = createGunzip({ chunkSize: CHUNK_BYTES });
  raw.on('error', (error) => gunzip.destroy(error));
  return raw.pipe(gunzip);
}

/** A stream's chunks, with read and gzip errors turned into an InputError that names the file. */
export async function* readChunks(stream: Readable, name: string): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of stream) yield chunk as Buffer;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const what = code?.startsWith('Z_') ? `not a valid gzip stream (${(error as Error).message})` : describeFsError(error);
    throw new InputError(name, what);
  }
}
