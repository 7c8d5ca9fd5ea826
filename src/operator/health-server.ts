/**
 * The probes' plain-HTTP endpoints, apart from the webhook's TLS port: /healthz answers while the
 * process runs, /readyz once every readiness check passes (caches synced, webhook serving).
 */
import type { ServerResponse } from 'node:http';
import { PlainHttpServer } from './plain-http-server.js';

export type ReadinessCheck = () => string | undefined;

export class HealthServer extends PlainHttpServer {
  private readonly checks = new Map<string, ReadinessCheck>();

  constructor() {
    super(5_000);
  }

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

  protected route(path: string): ((res: ServerResponse) => void) | undefined {
    if (path === '/healthz') {
      return (res) => res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok\n');
    }
    if (path !== '/readyz') return undefined;
    return (res) => {
      const failures = this.failing();
      res
        .writeHead(failures.length ? 503 : 200, { 'Content-Type': 'text/plain' })
        .end(failures.length ? `${failures.join('\n')}\n` : 'ok\n');
    };
  }
}
