import { readFile } from 'node:fs/promises';
import * as z from 'zod/mini';

export class StateCorruptError extends Error {
  constructor(file: string, reason: string) {
    super(
      `state file ${file} is unreadable (${reason}); racewatch stops rather than start afresh and file old reports again. ` +
        'Move the file aside to start with empty state (issues are then found again through their markers in GitLab).',
    );
    this.name = 'StateCorruptError';
  }
}

/**
 * Reads a state file racewatch wrote: missing means fresh state; empty, torn, foreign or newer-schema
 * content is an error that names the file, never silently fresh state (that would re-file old reports).
 */
export async function readStateFile<T>(file: string, schema: z.ZodMiniType<T>, newestSchema: number, fresh: () => T): Promise<T> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return fresh();
    throw new StateCorruptError(file, (error as Error).message);
  }
  if (text.trim() === '') throw new StateCorruptError(file, 'the file is empty');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new StateCorruptError(file, `not valid JSON: ${(error as Error).message}`);
  }
  const version = (json as { schema?: unknown } | null)?.schema;
  if (typeof version === 'number' && version > newestSchema) {
    throw new StateCorruptError(file, `written by a newer racewatch (schema ${version}; this one knows ${newestSchema})`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new StateCorruptError(file, z.prettifyError(parsed.error).replace(/\n/g, ' '));
  return parsed.data;
}
