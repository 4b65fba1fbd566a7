import { lookup } from 'node:dns/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Registry } from 'prom-client';
import { isLoopbackAddress } from '../config/loopback.js';
import { ConfigError } from '../config/settings.js';
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
  counter(
    'racewatch_files_vanished_total',
    'Files a listing of the followed paths found that were gone before racewatch could open them (rotated and deleted faster than it looks)',
    () => counts.filesVanished,
  );
  gauge('racewatch_sightings_pending', 'Sightings not yet acknowledged by GitLab', () => counts.sightingsPending);
  gauge('racewatch_files_followed', 'Log files followed', () => counts.filesFollowed);
  gauge('racewatch_files_open', 'Followed log files holding an open descriptor (at most RACEWATCH_MAX_OPEN_FILES)', () => counts.filesOpen);
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

export type LookupAll = (host: string) => Promise<{ address: string; family: number }[]>;

const lookupAll: LookupAll = (host) => lookup(host, { all: true });

/**
 * The address to serve metrics on for RACEWATCH_METRICS_HOST: the host is resolved (an address resolves to
 * itself) and every address it resolves to must be loopback, 127.0.0.0/8 or ::1, or it is refused. The
 * server then listens on the address checked, never on the name, which a second lookup could answer
 * differently. Throws ConfigError naming the setting.
 */
export async function resolveMetricsHost(host: string, resolve: LookupAll = lookupAll): Promise<string> {
  let addresses: { address: string }[];
  try {
    addresses = await resolve(host);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ConfigError(`RACEWATCH_METRICS_HOST: cannot resolve ${JSON.stringify(host)} (${reason}); use a loopback address such as 127.0.0.1 or ::1`);
  }
  const outside = addresses.map(({ address }) => address).filter((address) => !isLoopbackAddress(address));
  if (addresses.length === 0 || outside.length > 0) {
    const to = addresses.length === 0 ? 'no address' : outside.join(', ');
    throw new ConfigError(`RACEWATCH_METRICS_HOST: ${JSON.stringify(host)} resolves to ${to}, not a loopback address (127.0.0.0/8 or ::1)`);
  }
  return addresses[0]!.address;
}

/**
 * `/healthz` and Prometheus `/metrics`, on a loopback address only: nothing here is for the network.
 * Rejects with ConfigError for a host that is not loopback, and with the listen error (EADDRINUSE, with
 * its address and port) when the port cannot be had; nothing is left listening then.
 */
export async function startMetricsServer(host: string, port: number, source: HealthSource): Promise<{ server: Server; address: string; port: number }> {
  const address = await resolveMetricsHost(host);
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
    server.listen(port, address, resolve);
  });
  return { server, address, port: (server.address() as AddressInfo).port };
}
