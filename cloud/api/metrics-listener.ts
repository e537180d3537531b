/**
 * The metrics on a listener of their own (`metricsPort`, `metricsHost` in
 * the config): `GET /metrics` without a key, nothing else, for a
 * Prometheus on a network that the API's callers cannot reach. The API port
 * serves them only to operator API keys (metrics.ts).
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { Registry } from 'prom-client';

export class MetricsListener {
  private readonly server: Server;

  constructor(registry: Registry, timeouts: { headersTimeout: number; requestTimeout: number }) {
    this.server = createServer({ ...timeouts, connectionsCheckingInterval: 1000 }, (request, response) => {
      const path = (request.url ?? '').split('?')[0];
      if (request.method !== 'GET' || path !== '/metrics') {
        response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('only GET /metrics here\n');
        return;
      }
      registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
        () => response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('metrics failed\n'),
      );
    });
  }

  /** Starts listening; returns the base URL, e.g. http://127.0.0.1:9464. */
  async listen(host: string, port: number): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const address = this.server.address();
    const bound = typeof address === 'object' && address ? address.port : port;
    return `http://${host.includes(':') ? `[${host}]` : host}:${bound}`;
  }

  async close(): Promise<void> {
    if (!this.server.listening) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
