import { writeFileAtomic } from './atomic-file.js';

/**
 * The one writer of a state file. Callers mutate the state in memory and ask for a save; saves run one
 * at a time, each serializing the state as it is when the write starts, so a rename can never put an older
 * snapshot over a newer one and a crash leaves some prefix of what happened. A save resolves once a write
 * that began after the request is on disk; requests made while a write runs share the next write.
 */
export class StateWriter {
  private writing: Promise<void> | null = null;
  private next: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly file: string,
    private readonly snapshot: () => string,
  ) {}

  save(): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`state writer of ${this.file} is closed`));
    if (this.next) return this.next;
    if (!this.writing) return (this.writing = this.write());
    this.next = this.writing
      .catch(() => {})
      .then(() => {
        this.next = null;
        return (this.writing = this.write());
      });
    return this.next;
  }

  /** Writes the latest state once more and refuses every later save: nothing is written after this. */
  async close(): Promise<void> {
    await this.save();
    this.closed = true;
  }

  private async write(): Promise<void> {
    try {
      await writeFileAtomic(this.file, this.snapshot());
    } finally {
      this.writing = null;
    }
  }
}
