import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { registry } from './metrics.js';

export interface HealthSource {
  health(): Record<string, unknown>;
}

/** `/healthz` and Prometheus `/metrics`, on a loopback address only: nothing here is for the network. */
export async function startMetricsServer(host: string, port: number, source: HealthSource): Promise<{ server: Server; port: number }> {
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
