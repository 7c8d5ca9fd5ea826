/**
 * The probes' plain-HTTP endpoints, apart from the webhook's TLS port: /healthz answers while the
 * process runs, /readyz once every readiness check passes (caches synced, webhook serving).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ReadinessCheck = () => string | undefined;

export class HealthServer {
  private server: Server | undefined;
  private readonly checks = new Map<string, ReadinessCheck>();

  /** `check` returns undefined when ready, otherwise why not. */
  addReadinessCheck(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  private failing(): string[] {
    const failures: string[] = [];
    for (const [name, check] of this.checks) {
      const problem = check();
      if (problem !== undefined) failures.push(`${name}: ${problem}`);
    }
    return failures;
  }

  async listen(port: number, host?: string): Promise<number> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405).end();
        return;
      }
      if (path === '/healthz') {
        res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok\n');
      } else if (path === '/readyz') {
        const failures = this.failing();
        res
          .writeHead(failures.length ? 503 : 200, { 'Content-Type': 'text/plain' })
          .end(failures.length ? `${failures.join('\n')}\n` : 'ok\n');
      } else {
        res.writeHead(404).end();
      }
    });
    server.requestTimeout = 5_000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, resolve);
    });
    return (server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) =>
      server.close(() => {
        resolve();
      }),
    );
  }
}
