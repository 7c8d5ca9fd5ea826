/**
 * The operator's HTTPS webhook server: /convert (ConversionReview), /validate, /mutate and /decide
 * (AdmissionReview: the spec's rules, a runbook's author, gate decisions), /healthz.
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { REVIEW_KINDS, reviewConversion, reviewShapeProblem } from './admission.js';
import { reviewDecision, type Read } from './gate-decisions.js';
import { reviewRunbookWrite } from './runbook-author.js';
import type { Authorize } from './requester.js';
import { reviewValidation, type AdmissionConfig } from './validation.js';
import type { KeyPairPem } from './pki.js';

const MAX_BODY = 8 * 1024 * 1024;
/** How long a closing server lets the answers under way finish before it drops their connections. */
const CLOSE_GRACE_MS = 10_000;

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

/** One request the server answered, for the webhook metrics. */
export interface Served {
  /** The path without its slash: convert, validate, mutate (or other, for anything else). */
  webhook: string;
  code: number;
  /** allowed or denied (admission), converted or failed (conversion), error (no review answered). */
  outcome: 'allowed' | 'denied' | 'converted' | 'failed' | 'error';
  seconds: number;
}

/** What the server logs through: the operator's logger, or the worker's relay to it. */
export interface ServerLog {
  error(message: string, meta?: object): void;
  debug(message: string, meta?: object): void;
  served?(request: Served): void;
}

type WebhookPath = keyof typeof REVIEW_KINDS;
const WEBHOOKS = new Set<string>(Object.keys(REVIEW_KINDS));
const isWebhook = (path: string): path is WebhookPath => WEBHOOKS.has(path);

function outcomeOf(review: unknown): Served['outcome'] {
  const response = (review as { response?: { allowed?: unknown; result?: { status?: unknown } } }).response;
  if (response?.allowed !== undefined) return response.allowed === true ? 'allowed' : 'denied';
  return response?.result?.status === 'Success' ? 'converted' : 'failed';
}

export class WebhookServer {
  private readonly server: Server;
  private draining = false;

  constructor(
    tls: KeyPairPem,
    private readonly log: ServerLog,
    private readonly authorize: Authorize,
    private readonly read: Read,
    private readonly admission: AdmissionConfig = {},
  ) {
    // The API server gives up on a webhook after at most 30 s; a client slower than that only holds a socket.
    const limits = { requestTimeout: 30_000, headersTimeout: 10_000 };
    this.server = createServer({ cert: tls.certificate, key: tls.privateKey, ...limits }, (req, res) => {
      const started = performance.now();
      const path = (req.url ?? '').split('?')[0] ?? '';
      // Whatever a request carries, it gets an answer and the process goes on.
      this.handle(req, res, path)
        .catch((error: unknown): Served['outcome'] => {
          this.log.error('webhook request failed', { error: (error as Error).message });
          if (res.headersSent) res.destroy();
          else this.answer(res, 500, '{"message":"internal error"}');
          return 'error';
        })
        .then(
          (outcome) => {
            if (outcome === undefined) return;
            this.log.served?.({
              webhook: WEBHOOKS.has(path) ? path.slice(1) : 'other',
              code: res.statusCode,
              outcome,
              seconds: (performance.now() - started) / 1000,
            });
          },
          () => undefined,
        );
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

  /**
   * From now on each answer closes its connection. The API server keeps connections to a webhook
   * alive and goes on using one to a replica that is stopping (kubernetes#127335): closed under it,
   * a call fails. Closed after an answer, its next call dials again and reaches a replica that stays.
   */
  drain(): void {
    this.draining = true;
  }

  /**
   * Stops listening and closes the idle connections; the answers under way finish first (each
   * closing its connection), for up to CLOSE_GRACE_MS.
   */
  close(): Promise<void> {
    this.drain();
    return new Promise((resolve) => {
      const drop = setTimeout(() => {
        this.server.closeAllConnections();
      }, CLOSE_GRACE_MS);
      // close() also closes the idle connections (Node 19 and later).
      this.server.close(() => {
        clearTimeout(drop);
        resolve();
      });
    });
  }

  /** Writes an answer; once the server drains, it closes its connection. */
  private answer(res: ServerResponse, status: number, json: string): void {
    if (this.draining) res.setHeader('Connection', 'close');
    res.writeHead(status, { 'Content-Type': 'application/json' }).end(json);
  }

  /** Answers a request; resolves with the outcome of a review request, undefined for a probe. */
  private async handle(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
  ): Promise<Served['outcome'] | undefined> {
    const reply = (status: number, body: unknown) => {
      this.answer(res, status, JSON.stringify(body));
    };
    if (req.method === 'GET' && path === '/healthz') {
      reply(200, { status: 'ok' });
      return undefined;
    }
    if (req.method !== 'POST' || !isWebhook(path)) {
      reply(404, { message: `no ${req.method ?? ''} ${path} here` });
      return 'error';
    }
    let body: unknown;
    try {
      body = JSON.parse(await readBody(req));
    } catch (error) {
      if (error instanceof BodyTooLarge) {
        res.setHeader('Connection', 'close');
        reply(413, { message: error.message });
        return 'error';
      }
      reply(400, { message: `the body is not JSON: ${(error as Error).message}` });
      return 'error';
    }
    const problem = reviewShapeProblem(body, REVIEW_KINDS[path]);
    if (problem) {
      reply(400, { message: problem });
      return 'error';
    }
    const review =
      path === '/convert'
        ? reviewConversion(body)
        : path === '/mutate'
          ? reviewRunbookWrite(body)
          : path === '/decide'
            ? await reviewDecision(body, { authorize: this.authorize, read: this.read })
            : await reviewValidation(body, {
                authorize: this.authorize,
                read: this.read,
                ...this.admission,
              });
    this.log.debug('webhook review', { path, response: (review as { response?: unknown }).response });
    reply(200, review);
    return outcomeOf(review);
  }
}
