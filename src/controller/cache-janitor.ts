/**
 * Removes stored results (CachedResults) as engine/cache/eviction.ts decides, namespace by
 * namespace: on a timer, and soon after a namespace stores one. Only the leader runs it. Each
 * delete names the uid it decided on, so a result stored since under the same name stays.
 */
import type { ResultCacheLimits } from '../api/catalog.js';
import { RESULT_CACHE_DEFAULTS } from '../api/catalog.js';
import { resultsToRemove, type StoredEntry } from '../engine/cache/eviction.js';
import { isStatus, type KubeHttp } from '../kube/http.js';
import type { SharedInformer } from '../kube/informer.js';
import type { CachedResultEntry } from '../kube/types.js';
import type { Logger } from '../observability/logger.js';
import { timeOf } from './result-cache.js';
import { cachedResultsPath, deleteIf } from './result-store.js';

/** How often every namespace is swept (expiry needs no more precision than this). */
const SWEEP_INTERVAL_MS = 30_000;
/** How soon after a namespace stores a result its bounds are enforced. */
const AFTER_STORE_MS = 1_000;

function entryOf(result: CachedResultEntry): StoredEntry {
  return {
    name: result.metadata.name,
    key: result.spec.key,
    storedAt: timeOf(result.spec.origin.time),
    expiresAt: timeOf(result.spec.expiresAt),
    bytes: result.spec.bytes,
  };
}

export interface JanitorDeps {
  http: KubeHttp;
  results: SharedInformer<CachedResultEntry>;
  limits: () => ResultCacheLimits | undefined;
  log: Logger;
  now?: () => number;
  /** Told of each result removed, for metrics. */
  removed?: (namespace: string, reason: string) => void;
}

export class CacheJanitor {
  private timer: NodeJS.Timeout | undefined;
  private readonly due = new Set<string>();
  private soon: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = true;

  constructor(private readonly deps: JanitorDeps) {
    deps.results.on({
      add: (result) => {
        this.sweepSoon(result.metadata.namespace);
      },
    });
  }

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => {
      this.enqueue(undefined);
    }, SWEEP_INTERVAL_MS);
    this.timer.unref();
    this.enqueue(undefined);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.soon);
    await this.running;
  }

  private sweepSoon(namespace: string): void {
    if (this.stopped) return;
    this.due.add(namespace);
    this.soon ??= setTimeout(() => {
      this.soon = undefined;
      const namespaces = [...this.due];
      this.due.clear();
      for (const name of namespaces) this.enqueue(name);
    }, AFTER_STORE_MS);
    this.soon.unref();
  }

  /** Sweeps one namespace, or every one, after the sweep under way. */
  private enqueue(namespace: string | undefined): void {
    this.running = this.running
      .then(() => this.sweep(namespace))
      .catch((error: unknown) => {
        this.deps.log.error('removing stored results failed', { error: (error as Error).message });
      });
  }

  /** Removes what eviction says should go from one namespace, or from all. */
  async sweep(only?: string): Promise<void> {
    if (this.stopped) return;
    const limits = { ...RESULT_CACHE_DEFAULTS, ...this.deps.limits() };
    const byNamespace = new Map<string, CachedResultEntry[]>();
    for (const result of this.deps.results.values()) {
      const namespace = result.metadata.namespace;
      if (only !== undefined && namespace !== only) continue;
      const list = byNamespace.get(namespace);
      if (list) list.push(result);
      else byNamespace.set(namespace, [result]);
    }
    const now = this.deps.now?.() ?? Date.now();
    for (const [namespace, results] of byNamespace) {
      const byName = new Map(results.map((result) => [result.metadata.name, result]));
      for (const { name, reason } of resultsToRemove(results.map(entryOf), limits, now)) {
        const result = byName.get(name);
        if (result) await this.remove(namespace, result, reason);
      }
    }
  }

  private async remove(namespace: string, result: CachedResultEntry, reason: string): Promise<void> {
    const path = `${cachedResultsPath(namespace)}/${result.metadata.name}`;
    try {
      await this.deps.http.request({ method: 'DELETE', path, body: deleteIf(result) });
      this.deps.log.debug('stored result removed', { namespace, name: result.metadata.name, reason });
      this.deps.removed?.(namespace, reason);
    } catch (error) {
      // Gone already, or replaced by a newer object of that name since.
      if (!isStatus(error, 404, 409)) throw error;
    }
  }
}
