/**
 * The operator's plain-HTTP side ports (probes, metrics): GET and HEAD only (405 otherwise), 404
 * for a path with no route, a time limit per request, and a close that drops kept-alive
 * connections so a stop is not held up by a scraper.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export abstract class PlainHttpServer {
  private server: Server | undefined;

  constructor(private readonly requestTimeoutMs: number) {}

  /** What answers `path`, or undefined for a 404. */
  protected abstract route(path: string): ((res: ServerResponse) => void) | undefined;

  async listen(port: number, host?: string): Promise<number> {
    const server = createServer((req, res) => {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405).end();
        return;
      }
      const answer = this.route((req.url ?? '').split('?')[0] ?? '');
      if (answer) answer(res);
      else res.writeHead(404).end();
    });
    server.requestTimeout = this.requestTimeoutMs;
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
