import type { Logger } from '../log/logger.js';
import type { GitlabSink } from '../sink/gitlab/gitlab-sink.js';

const RETRY_MIN_MS = 5_000;
const RETRY_MAX_MS = 10 * 60_000;

/**
 * Delivers pending sightings to GitLab in the background, one delivery at a time: new sightings that
 * arrive during a delivery start another right after it; an outage is retried with growing pauses.
 */
export class DeliveryLoop {
  private running: Promise<void> | null = null;
  private again = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryMs = RETRY_MIN_MS;
  private stopped = false;

  constructor(
    private readonly sink: GitlabSink,
    private readonly log: Logger,
  ) {}

  request(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.run().finally(() => {
      this.running = null;
      if (this.again && !this.stopped) {
        this.again = false;
        this.request();
      }
    });
  }

  private async run(): Promise<void> {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    try {
      await this.sink.deliver();
    } catch (error) {
      this.log.error({ error: (error as Error).message }, 'delivery to GitLab failed');
    }
    if (this.sink.summary.failure && !this.stopped) {
      this.log.warn({ retryInMs: this.retryMs, pending: this.sink.summary.pending }, 'GitLab delivery incomplete; will retry');
      this.retryTimer = setTimeout(() => this.request(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
    } else {
      this.retryMs = RETRY_MIN_MS;
    }
  }

  /**
   * Starts no further delivery, gives the one under way `timeoutMs` to finish, then abandons its GitLab
   * requests (their write-ahead records let the next run resolve them) and waits for it to wind down.
   */
  async stop(timeoutMs: number): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (!this.running) return this.sink.abandonRequests();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.running, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    this.sink.abandonRequests();
    await this.running;
  }
}
