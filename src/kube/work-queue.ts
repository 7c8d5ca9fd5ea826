/**
 * A work queue with client-go's semantics: a key waiting in the queue is held once however often
 * it is added; a key being processed is never handed to a second worker, and if it is added
 * meanwhile it is queued again when the first worker is done; failed keys come back after a
 * rate-limited delay; deadlines come back with addAfter. A key added at low priority waits behind
 * every other (controller-runtime's priority queue, which gives the objects of a start's initial
 * list low priority); added again at normal priority while it waits, it moves up. At most
 * `lowPriorityLimit` keys of low priority are processed at once, so a burst of them leaves the
 * other workers, and the API server they wait on, to the keys of normal priority.
 */
import { defaultControllerRateLimiter, type RateLimiter } from './rate-limiter.js';

/** The longest delay setTimeout takes: 2^31-1 ms, about 24.8 days. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** What the queue reports as it works (client-go's queue metrics provider). */
export interface QueueObserver {
  added(): void;
  retried(): void;
  /** A key was handed out after waiting this long in the queue. */
  taken(waitedSeconds: number): void;
  /** A key was done after being processed this long. */
  worked(seconds: number): void;
}

/** Normal, or low: handed out only when no key of normal priority waits. */
export type Priority = 'normal' | 'low';

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly lowQueue: string[] = [];
  /** The waiting keys (of queuedAt) added at low priority only. */
  private readonly low = new Set<string>();
  private readonly waiters: ((key: string | undefined) => void)[] = [];
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly idleWaiters: (() => void)[] = [];
  private shuttingDown = false;
  /**
   * The keys waiting to be handled (client-go's dirty set), with when each was added, and the keys
   * being processed, with when each was handed out.
   */
  private readonly queuedAt = new Map<string, number>();
  private readonly startedAt = new Map<string, number>();
  /** The keys being processed that were handed out at low priority. */
  private readonly lowStarted = new Set<string>();
  /** The most keys of low priority processed at once. */
  lowPriorityLimit = Infinity;
  observer: QueueObserver | undefined;

  constructor(readonly rateLimiter: RateLimiter = defaultControllerRateLimiter()) {}

  get length(): number {
    return this.queue.length + this.lowQueue.length;
  }

  /** Seconds each key being processed has been at it. */
  processingSeconds(now = performance.now()): number[] {
    return [...this.startedAt.values()].map((at) => (now - at) / 1000);
  }

  private handOut(key: string): void {
    const now = performance.now();
    this.observer?.taken((now - (this.queuedAt.get(key) ?? now)) / 1000);
    this.queuedAt.delete(key);
    if (this.low.delete(key)) this.lowStarted.add(key);
    this.startedAt.set(key, now);
  }

  add(key: string, priority: Priority = 'normal'): void {
    if (this.shuttingDown) return;
    if (this.queuedAt.has(key)) {
      if (priority === 'normal') this.raise(key);
      return;
    }
    this.observer?.added();
    this.queuedAt.set(key, performance.now());
    if (priority === 'low') this.low.add(key);
    if (this.startedAt.has(key)) return;
    this.dispatch(key);
  }

  /** A waiting key of low priority, added again at normal priority, moves to the normal queue. */
  private raise(key: string): void {
    if (!this.low.delete(key)) return;
    const at = this.lowQueue.indexOf(key);
    // Not in the low queue: it is being processed and goes back in when done, now at normal priority.
    if (at < 0) return;
    this.lowQueue.splice(at, 1);
    this.queue.push(key);
  }

  private lowMayStart(): boolean {
    return this.lowStarted.size < this.lowPriorityLimit;
  }

  /** Hands a dirty key to a waiting worker, or queues it. */
  private dispatch(key: string): void {
    const waiter = this.low.has(key) && !this.lowMayStart() ? undefined : this.waiters.shift();
    if (waiter) {
      this.handOut(key);
      waiter(key);
    } else {
      (this.low.has(key) ? this.lowQueue : this.queue).push(key);
    }
  }

  /**
   * Adds the key after a delay; an earlier pending delay for the same key wins. A delay past
   * setTimeout's range is clamped to it (the key is looked at early, which is harmless) instead of
   * overflowing into a timer that fires at once, over and over.
   */
  addAfter(key: string, requestedMs: number): void {
    if (this.shuttingDown) return;
    const delayMs = Number.isNaN(requestedMs) ? 0 : Math.min(requestedMs, MAX_TIMER_MS);
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const at = Date.now() + delayMs;
    const pending = this.timers.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, delayMs);
    this.timers.set(key, { at, timer });
  }

  addRateLimited(key: string): void {
    this.observer?.retried();
    this.addAfter(key, this.rateLimiter.when(key));
  }

  /** Stops rate limiting the key (after it was handled successfully). */
  forget(key: string): void {
    this.rateLimiter.forget(key);
  }

  /** The next key to process, or undefined once the queue is shut down. */
  get(): Promise<string | undefined> {
    const key = this.queue.shift() ?? (this.lowMayStart() ? this.lowQueue.shift() : undefined);
    if (key !== undefined) {
      this.handOut(key);
      return Promise.resolve(key);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Marks the key processed; if it was added meanwhile it goes back in the queue. */
  done(key: string): void {
    const started = this.startedAt.get(key);
    if (started !== undefined) this.observer?.worked((performance.now() - started) / 1000);
    this.startedAt.delete(key);
    // A key of low priority done makes room for the next, if a worker waits for one.
    const next = this.lowStarted.delete(key) && this.waiters.length ? this.lowQueue.shift() : undefined;
    if (next !== undefined) this.dispatch(next);
    if (this.queuedAt.has(key) && !this.shuttingDown) this.dispatch(key);
    if (this.startedAt.size === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  /** Stops handing out keys; waiting workers get undefined. */
  shutDown(): void {
    this.shuttingDown = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    for (const resolve of this.waiters.splice(0)) resolve(undefined);
  }

  /** Resolves when no key is being processed. */
  drained(): Promise<void> {
    if (this.startedAt.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}
