/**
 * The webhook server in a worker thread of its own. Reviews are answered by an event loop (and a
 * heap, and a garbage collector) that no reconcile shares, so however expensive one tenant's
 * runbooks are to reconcile, admission for every tenant keeps its latency.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { KeyPairPem } from './pki.js';
import { reviewAdmission } from './admission.js';
import type { AdmissionConfig } from './validation.js';
import type { AccessRequest, Authorize } from './requester.js';
import type { Read } from './gate-decisions.js';
import type { Json } from '../api/json.js';
import { WebhookServer, type ServerLog, type Served } from './server.js';

export type ToWorker =
  | { type: 'tls'; tls: KeyPairPem }
  | { type: 'drain' }
  | { type: 'close' }
  | { type: 'authorized'; id: number; allowed: boolean; reason?: string }
  | { type: 'read-result'; id: number; object?: Json; error?: string };
export type FromWorker =
  | { type: 'authorize'; id: number; request: AccessRequest }
  | { type: 'read'; id: number; path: string }
  | { type: 'listening'; port: number }
  | { type: 'failed'; message: string }
  | { type: 'closed' }
  | { type: 'log'; level: 'error' | 'debug'; message: string; meta?: object }
  | ({ type: 'served' } & Served);

export interface WorkerStart {
  tls: KeyPairPem;
  port: number;
  host?: string;
  admission?: AdmissionConfig;
}

const port = parentPort;
if (port) {
  const post = (message: FromWorker) => {
    port.postMessage(message);
  };
  const log: ServerLog = {
    error: (message, meta) => {
      post({ type: 'log', level: 'error', message, ...(meta ? { meta } : {}) });
    },
    debug: (message, meta) => {
      post({ type: 'log', level: 'debug', message, ...(meta ? { meta } : {}) });
    },
    served: (request) => {
      post({ type: 'served', ...request });
    },
  };
  const start = workerData as WorkerStart;
  // Compiles the schemas before the first review arrives, so it waits no longer than the rest.
  reviewAdmission({ request: { uid: 'warm-up', operation: 'CREATE', object: { spec: { agents: {} } } } });
  // The SubjectAccessReviews and reads go through the operator's API client in the main thread.
  const pending = new Map<number, (verdict: { allowed: boolean; reason?: string }) => void>();
  let nextId = 0;
  const authorize: Authorize = (request) =>
    new Promise((resolve) => {
      nextId += 1;
      pending.set(nextId, resolve);
      post({ type: 'authorize', id: nextId, request });
    });
  const reads = new Map<
    number,
    { resolve: (object: Json | undefined) => void; reject: (error: Error) => void }
  >();
  const read: Read = (path) =>
    new Promise((resolve, reject) => {
      nextId += 1;
      reads.set(nextId, { resolve, reject });
      post({ type: 'read', id: nextId, path });
    });
  const server = new WebhookServer(start.tls, log, authorize, read, start.admission);
  port.on('message', (message: ToWorker) => {
    if (message.type === 'tls') server.updateTls(message.tls);
    else if (message.type === 'authorized') {
      pending.get(message.id)?.({
        allowed: message.allowed,
        ...(message.reason ? { reason: message.reason } : {}),
      });
      pending.delete(message.id);
    } else if (message.type === 'read-result') {
      const waiting = reads.get(message.id);
      reads.delete(message.id);
      if (message.error !== undefined) waiting?.reject(new Error(message.error));
      else waiting?.resolve(message.object);
    } else if (message.type === 'drain') server.drain();
    else {
      void server.close().then(() => {
        post({ type: 'closed' });
      });
    }
  });
  server.listen(start.port, start.host).then(
    (listening) => {
      post({ type: 'listening', port: listening });
    },
    (error: unknown) => {
      post({ type: 'failed', message: (error as Error).message });
    },
  );
}
