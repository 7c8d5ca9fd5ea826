/** The operator's side of webhook-worker.ts: starts the worker, relays its logs, renews, stops it. */
import { Worker } from 'node:worker_threads';
import type { Logger } from '../observability/logger.js';
import type { AdmissionConfig } from './validation.js';
import type { Authorize } from './requester.js';
import type { Read } from './gate-decisions.js';
import type { KeyPairPem } from './pki.js';
import type { Served } from './server.js';
import type { FromWorker, ToWorker, WorkerStart } from './webhook-worker.js';

// Under tsx (tests, `make demo`) the sources are .ts; the built operator runs .js.
const WORKER = new URL(
  import.meta.url.endsWith('.ts') ? './webhook-worker.ts' : './webhook-worker.js',
  import.meta.url,
);

export class WebhookThread {
  private readonly worker: Worker;
  private readonly waiting = new Map<FromWorker['type'], (message: FromWorker) => void>();

  constructor(
    tls: KeyPairPem,
    port: number,
    host: string | undefined,
    log: Logger,
    authorize: Authorize,
    read: Read,
    onServed?: (request: Served) => void,
    admission?: AdmissionConfig,
  ) {
    const start: WorkerStart = { tls, port, ...(host ? { host } : {}), ...(admission ? { admission } : {}) };
    this.worker = new Worker(WORKER, { workerData: start, name: 'webhook' });
    this.worker.on('message', (message: FromWorker) => {
      if (message.type === 'log') {
        log.log(message.level, message.message, message.meta ?? {});
        return;
      }
      if (message.type === 'served') {
        const { webhook, code, outcome, seconds } = message;
        onServed?.({ webhook, code, outcome, seconds });
        return;
      }
      if (message.type === 'authorize') {
        const { id } = message;
        authorize(message.request).then(
          (verdict) => {
            this.send({ type: 'authorized', id, ...verdict });
          },
          (error: unknown) => {
            // Fails closed: a decision nobody could check is refused, with the reason.
            this.send({
              type: 'authorized',
              id,
              allowed: false,
              reason: `the access check failed: ${(error as Error).message}`,
            });
          },
        );
        return;
      }
      if (message.type === 'read') {
        const { id } = message;
        read(message.path).then(
          (object) => {
            this.send({ type: 'read-result', id, ...(object ? { object } : {}) });
          },
          (error: unknown) => {
            this.send({ type: 'read-result', id, error: (error as Error).message });
          },
        );
        return;
      }
      this.waiting.get(message.type)?.(message);
    });
    this.worker.on('error', (error: Error) => {
      log.error('webhook worker failed', { error: error.message });
      this.waiting.get('failed')?.({ type: 'failed', message: error.message });
    });
  }

  private next(...types: FromWorker['type'][]): Promise<FromWorker> {
    return new Promise((resolve) => {
      for (const type of types) {
        this.waiting.set(type, (message) => {
          for (const other of types) this.waiting.delete(other);
          resolve(message);
        });
      }
    });
  }

  private send(message: ToWorker): void {
    this.worker.postMessage(message);
  }

  /** Resolves with the port the worker listens on. */
  async listening(): Promise<number> {
    const message = await this.next('listening', 'failed');
    if (message.type === 'failed') {
      await this.worker.terminate();
      throw new Error(`the webhook server could not start: ${message.message}`);
    }
    return message.type === 'listening' ? message.port : 0;
  }

  updateTls(tls: KeyPairPem): void {
    this.send({ type: 'tls', tls });
  }

  /** Each answer from now on closes its connection (WebhookServer.drain). */
  drain(): void {
    this.send({ type: 'drain' });
  }

  async close(): Promise<void> {
    const closed = this.next('closed', 'failed');
    this.send({ type: 'close' });
    await closed;
    await this.worker.terminate();
  }
}
