/**
 * Records core/v1 Events on runbooks, so `kubectl describe agentrunbook` tells the story of a run.
 * Like client-go's EventRecorder, recording never blocks the caller: Events go to a bounded queue
 * that a few senders drain (one object's Events in order), and repeats are aggregated:
 * - the same Event again patches the stored one's count and lastTimestamp instead of creating one;
 * - when one object has had AGGREGATE_AFTER Events of the same type and reason but different
 *   messages within AGGREGATE_WINDOW_MS, the next ones are folded into one
 *   "(combined from similar events)" Event.
 */
import { hostname } from 'node:os';
import { GROUP, KIND, STORAGE_VERSION } from '../api/group.js';
import { MANAGED_BY } from '../api/labels.js';
import type { EngineEvent } from '../engine/model/types.js';
import type { Logger } from '../observability/logger.js';
import { isStatus, type KubeHttp } from '../kube/http.js';
import type { CachedRunbook } from '../kube/types.js';

const MAX_MESSAGE = 1024;
/** The longest object name (a DNS subdomain). */
const MAX_NAME = 253;
/** Events waiting to be sent at most; beyond that they are dropped (and the drop logged), as client-go does. */
const MAX_QUEUED = 1000;
/** Objects whose Events are sent at the same time. */
const SENDERS = 4;
/** Recorded Events remembered for aggregation, as client-go's LRU cache. */
const MAX_REMEMBERED = 4096;
const AGGREGATE_AFTER = 10;
const AGGREGATE_WINDOW_MS = 10 * 60_000;

interface Pending {
  runbook: CachedRunbook;
  event: EngineEvent;
  time: Date;
  /** Position within one reconcile's Events, to order them by eventTime. */
  index: number;
}

interface Stored {
  name: string;
  count: number;
  firstTimestamp: string;
}

interface Similar {
  messages: Set<string>;
  since: number;
}

export class EventRecorder {
  private readonly instance = hostname();
  /** Events waiting, by involved object, in the order they were recorded. */
  private readonly pending = new Map<string, Pending[]>();
  private readonly sending = new Set<string>();
  private queued = 0;
  private dropped = 0;
  private readonly stored = new Map<string, Stored>();
  private readonly similar = new Map<string, Similar>();
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly http: KubeHttp,
    private readonly log: Logger,
  ) {}

  /** Queues the Events; a failure to record is logged and never reaches the caller. */
  record(runbook: CachedRunbook, events: EngineEvent[], time: Date): void {
    const object = runbook.metadata.uid;
    for (const [index, event] of events.entries()) {
      if (this.queued >= MAX_QUEUED) {
        this.dropped += 1;
        continue;
      }
      const queue = this.pending.get(object) ?? [];
      queue.push({ runbook, event, time, index });
      this.pending.set(object, queue);
      this.queued += 1;
    }
    if (this.dropped > 0) {
      this.log.warn('event queue full; events dropped', { dropped: this.dropped });
      this.dropped = 0;
    }
    this.pump();
  }

  /** Resolves when every queued Event has been sent (or given up on). */
  idle(): Promise<void> {
    if (this.queued === 0 && this.sending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    for (const object of this.pending.keys()) {
      if (this.sending.size >= SENDERS) return;
      if (this.sending.has(object)) continue;
      this.sending.add(object);
      void this.drain(object);
    }
  }

  private async drain(object: string): Promise<void> {
    for (let next = this.pending.get(object)?.shift(); next; next = this.pending.get(object)?.shift()) {
      this.queued -= 1;
      await this.send(next);
    }
    this.pending.delete(object);
    this.sending.delete(object);
    if (this.queued === 0 && this.sending.size === 0) {
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
    this.pump();
  }

  private async send(pending: Pending): Promise<void> {
    const { runbook, time } = pending;
    const { event, key } = this.aggregated(pending);
    const timestamp = time.toISOString();
    try {
      const stored = this.stored.get(key);
      if (stored && (await this.bump(runbook, stored, event, timestamp))) {
        remember(this.stored, key, stored);
        return;
      }
      const name = await this.create(pending, event, timestamp);
      remember(this.stored, key, { name, count: 1, firstTimestamp: timestamp });
    } catch (error) {
      this.log.warn('could not record event', { reason: event.reason, error: (error as Error).message });
    }
  }

  /**
   * The Event as sent and the key it is counted under: its own, or, once similar Events keep
   * coming, the one combined Event of its type and reason.
   */
  private aggregated({ runbook, event, time }: Pending): { event: EngineEvent; key: string } {
    const message = event.message.slice(0, MAX_MESSAGE);
    const similarKey = [runbook.metadata.uid, event.type, event.reason].join('\u0000');
    const now = time.getTime();
    let similar = this.similar.get(similarKey);
    if (!similar || now - similar.since > AGGREGATE_WINDOW_MS) similar = { messages: new Set(), since: now };
    remember(this.similar, similarKey, similar);
    if (similar.messages.size < AGGREGATE_AFTER) similar.messages.add(message);
    if (similar.messages.size < AGGREGATE_AFTER || similar.messages.has(message)) {
      return { event: { ...event, message }, key: `${similarKey}\u0000${message}` };
    }
    return { event: { ...event, message: `(combined from similar events): ${message}` }, key: similarKey };
  }

  /** Adds one to a stored Event's count; false when it is gone (then a new one is created). */
  private async bump(
    runbook: CachedRunbook,
    stored: Stored,
    event: EngineEvent,
    timestamp: string,
  ): Promise<boolean> {
    stored.count += 1;
    try {
      await this.http.send({
        method: 'PATCH',
        path: `/api/v1/namespaces/${runbook.metadata.namespace}/events/${stored.name}`,
        contentType: 'application/strategic-merge-patch+json',
        body: { count: stored.count, lastTimestamp: timestamp, message: event.message },
      });
      return true;
    } catch (error) {
      if (isStatus(error, 404)) return false;
      throw error;
    }
  }

  private async create(pending: Pending, event: EngineEvent, timestamp: string): Promise<string> {
    const { runbook, index } = pending;
    const namespace = runbook.metadata.namespace;
    // lastTimestamp has whole seconds; eventTime (microseconds) keeps one reconcile's Events in order.
    const eventTime = `${timestamp.slice(0, -1)}${String(Math.min(index, 999)).padStart(3, '0')}Z`;
    const body = (metadata: Record<string, string>) => ({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { ...metadata, namespace },
      involvedObject: {
        apiVersion: `${GROUP}/${STORAGE_VERSION}`,
        kind: KIND,
        name: runbook.metadata.name,
        namespace,
        uid: runbook.metadata.uid,
        resourceVersion: runbook.metadata.resourceVersion,
      },
      type: event.type,
      reason: event.reason,
      message: event.message,
      source: { component: MANAGED_BY },
      reportingComponent: MANAGED_BY,
      reportingInstance: this.instance,
      firstTimestamp: timestamp,
      lastTimestamp: timestamp,
      eventTime,
      action: event.reason,
      count: 1,
    });
    // Named as client-go names them, <object>.<time in hex>: kubectl describe sorts Events by
    // lastTimestamp, which has whole seconds, and keeps the API server's order (by name) among
    // equals, so the name keeps one second's Events (StageFailed, then RunFailed) in order.
    const object = runbook.metadata.name;
    const nanos = BigInt(pending.time.getTime()) * 1_000_000n + BigInt(Math.min(index, 999_999));
    const name = `${object}.${nanos.toString(16)}`;
    const generated = () => this.post(namespace, body({ generateName: `${object.slice(0, 200)}.` }));
    if (name.length > MAX_NAME) return generated();
    try {
      return await this.post(namespace, body({ name }));
    } catch (error) {
      // Another Event took the name in the same millisecond: let the API server name this one.
      if (!isStatus(error, 409)) throw error;
      return generated();
    }
  }

  private async post(namespace: string, body: object): Promise<string> {
    const created = await this.http.request<{ metadata?: { name?: string } }>({
      method: 'POST',
      path: `/api/v1/namespaces/${namespace}/events`,
      body,
    });
    return created.metadata?.name ?? '';
  }
}

/** Sets `key` as the most recently used entry, forgetting the least recently used beyond the bound. */
function remember<T>(cache: Map<string, T>, key: string, value: T): void {
  cache.delete(key);
  cache.set(key, value);
  if (cache.size > MAX_REMEMBERED) cache.delete(cache.keys().next().value ?? '');
}
