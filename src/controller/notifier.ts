/**
 * Tells the notify targets of an emergency workflow, by HTTP POST to the URL the operator
 * configuration maps each target to. Delivery is retried with backoff in the background and never
 * holds up the stop itself. Each URL sits behind an opossum circuit breaker, so an endpoint that is
 * down is not hammered by every runbook's emergency.
 */
import { nodeHttp } from '../kube/node-http.js';
import { request as httpsRequest } from 'node:https';
import CircuitBreaker from 'opossum';
import type { AgentCatalog } from '../api/catalog.js';
import type { Notification } from '../engine/model/types.js';
import type { Logger } from '../observability/logger.js';
import type { CachedRunbook } from '../kube/types.js';

export interface NotifierOptions {
  attempts?: number;
  baseDelayMs?: number;
  timeoutMs?: number;
}

/** POSTs `body` to `url`; resolves on a 2xx answer, rejects on anything else or after `timeoutMs`. */
export function post(
  url: string,
  body: string,
  timeoutMs: number,
  headers: Record<string, string> = { 'Content-Type': 'application/json' },
): Promise<void> {
  return new Promise((resolve, reject) => {
    const send = url.startsWith('https:') ? httpsRequest : nodeHttp.request;
    const call = send(
      url,
      {
        method: 'POST',
        timeout: timeoutMs,
        headers: { ...headers, 'Content-Length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) resolve();
        else reject(new Error(`${url} answered ${status}`));
      },
    );
    call.on('timeout', () => call.destroy(new Error(`${url} did not answer within ${timeoutMs} ms`)));
    call.on('error', reject);
    call.end(body);
  });
}

export class Notifier {
  private readonly breakers = new Map<string, CircuitBreaker<[string, string], void>>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly attempts: number;
  private readonly baseDelayMs: number;
  private readonly timeoutMs: number;

  constructor(
    private readonly config: () => AgentCatalog,
    private readonly log: Logger,
    options: NotifierOptions = {},
  ) {
    this.attempts = options.attempts ?? 5;
    this.baseDelayMs = options.baseDelayMs ?? 500;
    this.timeoutMs = options.timeoutMs ?? 5000;
  }

  /** Starts delivering; returns at once. */
  notify(runbook: CachedRunbook, notifications: Notification[]): void {
    for (const notification of notifications) {
      const url = this.config().notificationTargets?.[notification.target]?.url;
      if (!url) continue; // the Warning Event already told the target's people
      const body = JSON.stringify({
        target: notification.target,
        reason: notification.reason,
        message: notification.message,
        runbook: {
          namespace: runbook.metadata.namespace,
          name: runbook.metadata.name,
          uid: runbook.metadata.uid,
        },
      });
      const delivery = this.deliver(url, body, notification).finally(() => this.inFlight.delete(delivery));
      this.inFlight.add(delivery);
    }
  }

  /** Resolves when every delivery started so far has succeeded or given up. */
  async settled(): Promise<void> {
    await Promise.all([...this.inFlight]);
  }

  private breaker(url: string): CircuitBreaker<[string, string], void> {
    let breaker = this.breakers.get(url);
    if (!breaker) {
      breaker = new CircuitBreaker((target: string, body: string) => post(target, body, this.timeoutMs), {
        timeout: this.timeoutMs * 2,
        errorThresholdPercentage: 50,
        resetTimeout: 30_000,
        volumeThreshold: 5,
      });
      this.breakers.set(url, breaker);
    }
    return breaker;
  }

  private async deliver(url: string, body: string, notification: Notification): Promise<void> {
    for (let attempt = 1; attempt <= this.attempts; attempt += 1) {
      try {
        await this.breaker(url).fire(url, body);
        this.log.info('notified', { target: notification.target, url });
        return;
      } catch (error) {
        this.log.warn('notification failed', {
          target: notification.target,
          attempt,
          error: (error as Error).message,
        });
        if (attempt < this.attempts)
          await new Promise((resolve) => setTimeout(resolve, this.baseDelayMs * 2 ** (attempt - 1)));
      }
    }
    this.log.error('gave up notifying', { target: notification.target, url });
  }
}
