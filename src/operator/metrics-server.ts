/** Serves the operator's Prometheus metrics at /metrics (plain HTTP, as controller-runtime's). */
import type { ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { PlainHttpServer } from './plain-http-server.js';

export class MetricsServer extends PlainHttpServer {
  constructor(private readonly registry: Registry) {
    super(10_000);
  }

  protected route(path: string): ((res: ServerResponse) => void) | undefined {
    if (path !== '/metrics') return undefined;
    return (res) => {
      this.registry.metrics().then(
        (text) => res.writeHead(200, { 'Content-Type': this.registry.contentType }).end(text),
        (error: unknown) => res.writeHead(500).end(`${(error as Error).message}\n`),
      );
    };
  }
}
