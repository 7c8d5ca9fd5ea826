/**
 * The operator's HTTPS webhook server: /convert (ConversionReview), /validate and /mutate
 * (AdmissionReview: the spec's rules, and gate decisions), /healthz.
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { REVIEW_KINDS, reviewAdmission, reviewConversion, reviewShapeProblem } from './admission.js';
import { reviewApproval, type Authorize } from './approvals.js';
import type { KeyPairPem } from './pki.js';

const MAX_BODY = 8 * 1024 * 1024;

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        // Stop keeping it, drain the rest, and let the caller answer 413.
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyTooLarge(`request body over ${MAX_BODY} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}

/** What the server logs through: the operator's logger, or the worker's relay to it. */
export interface ServerLog {
  error(message: string, meta?: object): void;
  debug(message: string, meta?: object): void;
}

export class WebhookServer {
  private readonly server: Server;

  constructor(
    tls: KeyPairPem,
    private readonly log: ServerLog,
    private readonly authorize: Authorize,
  ) {
    // The API server gives up on a webhook after at most 30 s; a client slower than that only holds a socket.
    const limits = { requestTimeout: 30_000, headersTimeout: 10_000 };
    this.server = createServer({ cert: tls.certificate, key: tls.privateKey, ...limits }, (req, res) => {
      // Whatever a request carries, it gets an answer and the process goes on.
      this.handle(req, res).catch((error: unknown) => {
        this.log.error('webhook request failed', { error: (error as Error).message });
        if (res.headersSent) res.destroy();
        else res.writeHead(500, { 'Content-Type': 'application/json' }).end('{"message":"internal error"}');
      });
    });
  }

  /** Serves a renewed certificate to new connections. */
  updateTls(tls: KeyPairPem): void {
    this.server.setSecureContext({ cert: tls.certificate, key: tls.privateKey });
  }

  listen(port: number, host = '0.0.0.0'): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => {
        resolve();
      });
      this.server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    };
    const path = (req.url ?? '').split('?')[0];
    if (req.method === 'GET' && path === '/healthz') {
      reply(200, { status: 'ok' });
      return;
    }
    if (req.method !== 'POST' || (path !== '/convert' && path !== '/validate' && path !== '/mutate')) {
      reply(404, { message: `no ${req.method ?? ''} ${path ?? ''} here` });
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(await readBody(req));
    } catch (error) {
      if (error instanceof BodyTooLarge) {
        res.setHeader('Connection', 'close');
        reply(413, { message: error.message });
        return;
      }
      reply(400, { message: `the body is not JSON: ${(error as Error).message}` });
      return;
    }
    const problem = reviewShapeProblem(body, REVIEW_KINDS[path]);
    if (problem) {
      reply(400, { message: problem });
      return;
    }
    const review =
      path === '/convert'
        ? reviewConversion(body)
        : path === '/mutate'
          ? await reviewApproval(body, this.authorize, new Date())
          : reviewAdmission(body);
    this.log.debug('webhook review', { path, response: (review as { response?: unknown }).response });
    reply(200, review);
  }
}
