/**
 * Sends the engine's notices to people (engine/run/notices.ts) to the receivers of the operator's
 * configuration (notifications: a plain JSON webhook, a Slack-compatible incoming webhook, or
 * CloudEvents in HTTP binary mode). A reconcile only enqueues: a bounded queue is worked off in
 * the background with retries and backoff, so a slow or dead receiver never holds a reconcile,
 * and when the queue is full the oldest delivery is dropped (and counted). A notice was recorded
 * in the runbook's status before it got here, so after a restart it is never sent again.
 */
import type { AgentCatalog, NoticeReceiver } from '../api/catalog.js';
import type { Notice } from '../engine/run/notices.js';
import type { CachedRunbook } from '../kube/types.js';
import type { Logger } from '../observability/logger.js';
import { post } from './notifier.js';

export type NoticeResult = 'sent' | 'failed' | 'dropped';

export interface NoticeSenderOptions {
  attempts?: number;
  baseDelayMs?: number;
  timeoutMs?: number;
  /** Most deliveries waiting at once; beyond it the oldest is dropped. */
  capacity?: number;
  /** Told of every delivery's end, for the metrics. */
  counted?: (receiver: string, event: string, result: NoticeResult) => void;
}

interface Delivery {
  receiver: string;
  event: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** The body and headers of a notice in a receiver's format. */
export function encodeNotice(
  format: NonNullable<NoticeReceiver['format']>,
  runbook: CachedRunbook,
  notice: Notice,
): { headers: Record<string, string>; body: string } {
  const namespace = runbook.metadata.namespace;
  const name = runbook.metadata.name;
  const data = {
    event: notice.event,
    notice: notice.name,
    message: notice.message,
    time: notice.time,
    runbook: { namespace, name, uid: runbook.metadata.uid, execution: notice.execution },
  };
  const json = { 'Content-Type': 'application/json' };
  switch (format) {
    case 'slack':
      return {
        headers: json,
        body: JSON.stringify({ text: `AgentRunbook ${notice.event}: ${notice.message}` }),
      };
    case 'cloudevents':
      return {
        headers: {
          ...json,
          'ce-specversion': '1.0',
          'ce-id': `${runbook.metadata.uid}/${notice.execution}/${notice.name}`,
          'ce-type': `studio.i2s.agentrunbook.${notice.event}`,
          'ce-source': `/apis/i2s.studio/v2/namespaces/${namespace}/agentrunbooks/${name}`,
          'ce-subject': notice.name,
          'ce-time': notice.time,
        },
        body: JSON.stringify(data),
      };
    case 'json':
      return { headers: json, body: JSON.stringify(data) };
  }
}

export class NoticeSender {
  private readonly queue: Delivery[] = [];
  private working = 0;
  private readonly idle = new Set<() => void>();
  private readonly attempts: number;
  private readonly baseDelayMs: number;
  private readonly timeoutMs: number;
  private readonly capacity: number;

  constructor(
    private readonly config: () => AgentCatalog,
    private readonly log: Logger,
    private readonly options: NoticeSenderOptions = {},
  ) {
    this.attempts = options.attempts ?? 5;
    this.baseDelayMs = options.baseDelayMs ?? 500;
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.capacity = options.capacity ?? 1000;
  }

  /** Queues the notices for every receiver that wants them; returns at once. */
  send(runbook: CachedRunbook, notices: readonly Notice[]): void {
    const receivers = Object.entries(this.config().notifications ?? {});
    for (const notice of notices) {
      for (const [receiver, target] of receivers) {
        if (target.events && !target.events.includes(notice.event)) continue;
        if (target.namespaces && !target.namespaces.includes(runbook.metadata.namespace)) continue;
        const encoded = encodeNotice(target.format ?? 'json', runbook, notice);
        this.queue.push({ receiver, event: notice.event, url: target.url, ...encoded });
        if (this.queue.length > this.capacity) {
          const dropped = this.queue.shift();
          if (dropped) this.finish(dropped, 'dropped');
        }
      }
    }
    this.work();
  }

  /** Resolves once every queued delivery has been sent or given up. */
  settled(): Promise<void> {
    if (!this.queue.length && !this.working) return Promise.resolve();
    return new Promise((resolve) => this.idle.add(resolve));
  }

  private work(): void {
    // A few at a time: one slow receiver does not hold the others' notices back for long.
    while (this.working < 4 && this.queue.length) {
      const delivery = this.queue.shift();
      if (!delivery) break;
      this.working += 1;
      void this.deliver(delivery).finally(() => {
        this.working -= 1;
        this.work();
        if (!this.queue.length && !this.working) for (const resolve of this.idle) resolve();
        if (!this.queue.length && !this.working) this.idle.clear();
      });
    }
  }

  private async deliver(delivery: Delivery): Promise<void> {
    for (let attempt = 1; attempt <= this.attempts; attempt += 1) {
      try {
        await post(delivery.url, delivery.body, this.timeoutMs, delivery.headers);
        this.finish(delivery, 'sent');
        return;
      } catch (error) {
        this.log.warn('notice failed', {
          receiver: delivery.receiver,
          event: delivery.event,
          attempt,
          error: (error as Error).message,
        });
        if (attempt < this.attempts)
          await new Promise((resolve) => setTimeout(resolve, this.baseDelayMs * 2 ** (attempt - 1)));
      }
    }
    this.finish(delivery, 'failed');
  }

  private finish(delivery: Delivery, result: NoticeResult): void {
    if (result === 'sent')
      this.log.info('notice sent', { receiver: delivery.receiver, event: delivery.event });
    else this.log.error(`notice ${result}`, { receiver: delivery.receiver, event: delivery.event });
    this.options.counted?.(delivery.receiver, delivery.event, result);
  }
}
