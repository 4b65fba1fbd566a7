import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Registry } from 'prom-client';
import { counts } from './metrics.js';

export interface HealthSource {
  health(): Record<string, unknown>;
}

function buildRegistry(): Registry {
  const registry = new Registry();
  const counter = (name: string, help: string, read: () => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  counter('racewatch_reports_seen_total', 'Race reports parsed from logs', () => counts.reportsSeen);
  counter('racewatch_issues_created_total', 'GitLab issues filed', () => counts.issuesCreated);
  counter('racewatch_comments_posted_total', 'GitLab comments posted', () => counts.commentsPosted);
  counter('racewatch_bytes_read_total', 'Log bytes read', () => counts.bytesRead);
  gauge('racewatch_sightings_pending', 'Sightings not yet acknowledged by GitLab', () => counts.sightingsPending);
  gauge('racewatch_files_followed', 'Log files open for following', () => counts.filesFollowed);
  gauge('racewatch_seconds_since_last_read', 'Seconds since log data was last read', () => (Date.now() - counts.lastReadAt) / 1000);
  new Counter({
    name: 'racewatch_gitlab_errors_total',
    help: 'Failed GitLab requests, by HTTP status ("none" when GitLab did not answer)',
    labelNames: ['status'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [status, value] of counts.gitlabErrorsByStatus) this.inc({ status }, value);
    },
  });
  return registry;
}

/** `/healthz` and Prometheus `/metrics`, on a loopback address only: nothing here is for the network. */
export async function startMetricsServer(host: string, port: number, source: HealthSource): Promise<{ server: Server; port: number }> {
  const registry = buildRegistry();
  const server = createServer((request, response) => {
    void (async () => {
      if (request.url === '/healthz') {
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok', ...source.health() }));
      } else if (request.url === '/metrics') {
        response.writeHead(200, { 'content-type': registry.contentType }).end(await registry.metrics());
      } else {
        response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /healthz or /metrics\n');
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return { server, port: (server.address() as AddressInfo).port };
}
