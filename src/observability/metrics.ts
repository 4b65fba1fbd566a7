import { Counter, Gauge, Registry } from 'prom-client';

/** Process-wide Prometheus metrics; the stages count, the daemon serves them. */
export const registry = new Registry();

export const reportsSeen = new Counter({ name: 'racewatch_reports_seen_total', help: 'Race reports parsed from logs', registers: [registry] });
export const issuesCreated = new Counter({ name: 'racewatch_issues_created_total', help: 'GitLab issues filed', registers: [registry] });
export const commentsPosted = new Counter({ name: 'racewatch_comments_posted_total', help: 'GitLab comments posted', registers: [registry] });
export const gitlabErrors = new Counter({
  name: 'racewatch_gitlab_errors_total',
  help: 'Failed GitLab requests, by HTTP status ("none" when GitLab did not answer)',
  labelNames: ['status'],
  registers: [registry],
});
export const bytesRead = new Counter({ name: 'racewatch_bytes_read_total', help: 'Log bytes read', registers: [registry] });
export const sightingsPending = new Gauge({ name: 'racewatch_sightings_pending', help: 'Sightings not yet acknowledged by GitLab', registers: [registry] });
export const filesFollowed = new Gauge({ name: 'racewatch_files_followed', help: 'Log files open for following', registers: [registry] });
const lastReadAt = { time: Date.now() };
export const secondsSinceLastRead = new Gauge({
  name: 'racewatch_seconds_since_last_read',
  help: 'Seconds since log data was last read',
  registers: [registry],
  collect() {
    this.set((Date.now() - lastReadAt.time) / 1000);
  },
});

export function countBytesRead(bytes: number): void {
  if (bytes === 0) return;
  bytesRead.inc(bytes);
  lastReadAt.time = Date.now();
}
