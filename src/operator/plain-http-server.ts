/**
 * The operator's plain-HTTP side ports (probes, metrics): GET and HEAD only (405 otherwise), 404
 * for a path with no route, a time limit per request, and a close that drops kept-alive
 * connections so a stop is not held up by a scraper.
 */
import type { Server, ServerResponse } from 'node:http';
import { nodeHttp } from '../kube/node-http.js';
import type { AddressInfo } from 'node:net';

/** Listens on `port` (0 picks a free one) and resolves with the port bound. */
export async function listenOn(server: Server, port: number, host?: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return (server.address() as AddressInfo).port;
}

/** Closes a server, dropping kept-alive connections so that no client holds the close up. */
export async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) =>
    server.close(() => {
      resolve();
    }),
  );
}

export abstract class PlainHttpServer {
  private server: Server | undefined;

  constructor(private readonly requestTimeoutMs: number) {}

  /** What answers `path`, or undefined for a 404. */
  protected abstract route(path: string): ((res: ServerResponse) => void) | undefined;

  async listen(port: number, host?: string): Promise<number> {
    const server = nodeHttp.createServer((req, res) => {
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
    return listenOn(server, port, host);
  }

  async close(): Promise<void> {
    if (this.server) await closeServer(this.server);
  }
}
