/**
 * A list-and-watch cache of one kind of object, in the manner of client-go's reflector:
 * - lists, then watches from the list's resourceVersion with bookmarks and a server-side timeout;
 * - a watch that ends cleanly resumes from the last resourceVersion;
 * - 410 Gone (the resourceVersion is too old) relists at once;
 * - any other error, including an API server that is down, relists after an exponential backoff;
 * - a connection that goes silent (no event, no bookmark) for too long is dropped and relisted.
 * client-node's own informer stops on non-410 errors until restarted, so it is not used.
 * Like client-go's Indexer, it keeps indexes (e.g. Jobs by owner UID) up to date with the cache, so
 * a reader asks for one bucket instead of scanning every object.
 */

/** What the informer needs of an object: its identity and version. */
export interface KubeObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface ListResult<T> {
  items: T[];
  resourceVersion: string;
}

export interface WatchHandle {
  abort(): void;
}

export interface InformerSource<T> {
  list(): Promise<ListResult<T>>;
  /** Starts a watch; `onDone` is called once when it ends, with the error if it failed. */
  watch(
    resourceVersion: string,
    timeoutSeconds: number,
    onEvent: (type: WatchEventType, object: T) => void,
    onDone: (error?: unknown) => void,
  ): Promise<WatchHandle>;
}

export interface InformerHandlers<T> {
  add?(object: T): void;
  update?(object: T, old: T): void;
  delete?(object: T): void;
}

/** Metadata fields an informer may require of every object it caches. */
export type RequiredMeta = 'name' | 'uid' | 'resourceVersion' | 'namespace' | 'generation';

export interface InformerOptions {
  /**
   * Fields every cached object has: the API server sets them on every object it stores, so an
   * object without them (a broken source) is left out and logged, and the cache's type may say so.
   */
  requires?: readonly RequiredMeta[];
  /** The server ends each watch after this long (plus jitter it adds itself). */
  watchTimeoutSeconds?: number;
  /** A watch with no traffic for this long is presumed dead. */
  silenceMs?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  log?: (message: string) => void;
}

/** The index values of an object, e.g. the UIDs of its owners. */
export type IndexFunc<T> = (object: T) => readonly string[];

interface Index<T> {
  valuesOf: IndexFunc<T>;
  buckets: Map<string, Map<string, T>>;
}

export function objectKey(object: KubeObject): string {
  const { namespace, name } = object.metadata ?? {};
  return namespace ? `${namespace}/${name ?? ''}` : (name ?? '');
}

function isGone(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as { code?: unknown; statusCode?: unknown; body?: unknown; message?: unknown };
  return (
    record.code === 410 ||
    record.statusCode === 410 ||
    (typeof record.message === 'string' && /\b410\b|too old resource version/i.test(record.message))
  );
}

/** What readers of a cache use: one informer's, or several namespaces' (MultiNamespaceInformer). */
export interface SharedInformer<T extends KubeObject> {
  readonly name: string;
  on(handlers: InformerHandlers<T>): void;
  addIndex(name: string, valuesOf: IndexFunc<T>): void;
  byIndex(name: string, value: string): T[];
  get(key: string): T | undefined;
  values(): IterableIterator<T>;
  readonly hasSynced: boolean;
  start(): Promise<void>;
  waitForSync(): Promise<void>;
  stop(): void;
}

export class Informer<T extends KubeObject> implements SharedInformer<T> {
  private readonly cache = new Map<string, T>();
  private readonly handlers: InformerHandlers<T>[] = [];
  private readonly indexes = new Map<string, Index<T>>();
  private resourceVersion = '';
  private handle: WatchHandle | undefined;
  private silenceTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private backoffMs: number;
  private stopped = true;
  private synced = false;
  private syncWaiters: (() => void)[] = [];
  /** Bumped on every (re)start, so callbacks of an abandoned watch are ignored. */
  private generation = 0;
  private readonly options: Required<InformerOptions>;

  constructor(
    readonly name: string,
    private readonly source: InformerSource<T>,
    options: InformerOptions = {},
  ) {
    this.options = {
      watchTimeoutSeconds: 300,
      silenceMs: 360_000,
      minBackoffMs: 100,
      maxBackoffMs: 10_000,
      log: () => undefined,
      requires: [],
      ...options,
    };
    this.backoffMs = this.options.minBackoffMs;
  }

  on(handlers: InformerHandlers<T>): void {
    this.handlers.push(handlers);
  }

  /** Adds an index; objects already cached are indexed at once. */
  addIndex(name: string, valuesOf: IndexFunc<T>): void {
    const index: Index<T> = { valuesOf, buckets: new Map() };
    this.indexes.set(name, index);
    for (const [key, object] of this.cache) indexObject(index, key, object);
  }

  /** The cached objects whose index `name` has `value`; only that bucket is read. */
  byIndex(name: string, value: string): T[] {
    const bucket = this.indexes.get(name)?.buckets.get(value);
    return bucket ? [...bucket.values()] : [];
  }

  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  /** Every cached object, without copying the cache. */
  values(): IterableIterator<T> {
    return this.cache.values();
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  /** Starts listing and watching; resolves after the first successful list. */
  start(): Promise<void> {
    this.stopped = false;
    void this.relist();
    return this.waitForSync();
  }

  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  stop(): void {
    this.stopped = true;
    this.generation += 1;
    clearTimeout(this.silenceTimer);
    clearTimeout(this.retryTimer);
    this.handle?.abort();
    this.handle = undefined;
  }

  private async relist(): Promise<void> {
    const generation = ++this.generation;
    this.handle?.abort();
    this.handle = undefined;
    let listed: ListResult<T>;
    try {
      listed = await this.source.list();
    } catch (error) {
      if (generation === this.generation) this.retryLater(`list failed: ${describe(error)}`);
      return;
    }
    if (generation !== this.generation || this.stopped) return;
    this.replace(listed.items);
    this.resourceVersion = listed.resourceVersion;
    if (!this.synced) {
      this.synced = true;
      for (const resolve of this.syncWaiters.splice(0)) resolve();
    }
    await this.watch(generation);
  }

  private async watch(generation: number): Promise<void> {
    this.armSilenceTimer(generation);
    let handle: WatchHandle;
    try {
      handle = await this.source.watch(
        this.resourceVersion,
        this.options.watchTimeoutSeconds,
        (type, object) => {
          if (generation === this.generation) this.onEvent(generation, type, object);
        },
        (error) => {
          if (generation === this.generation) this.onWatchEnd(error);
        },
      );
    } catch (error) {
      if (generation === this.generation) this.retryLater(`watch failed to start: ${describe(error)}`);
      return;
    }
    if (generation !== this.generation) handle.abort();
    else this.handle = handle;
  }

  private onEvent(generation: number, type: WatchEventType, object: T): void {
    this.armSilenceTimer(generation);
    if (type === 'ERROR') {
      this.options.log(`${this.name}: watch error event ${JSON.stringify(object)}; relisting`);
      this.generation += 1; // ignore the rest of this watch
      if (isGone(object)) void this.relist();
      else this.retryLater('watch error event');
      return;
    }
    const version = object.metadata?.resourceVersion;
    if (version) this.resourceVersion = version;
    this.backoffMs = this.options.minBackoffMs;
    if (type === 'BOOKMARK' || !this.complete(object)) return;
    const key = objectKey(object);
    const old = this.cache.get(key);
    if (type === 'DELETED') {
      this.remove(key);
      this.emit((h) => h.delete?.(object));
    } else {
      this.store(key, object);
      if (old) this.emit((h) => h.update?.(object, old));
      else this.emit((h) => h.add?.(object));
    }
  }

  private onWatchEnd(error: unknown): void {
    this.handle = undefined;
    if (this.stopped) return;
    if (error === undefined || error === null) {
      // The server closed the watch at its timeout: resume where it left off.
      const generation = ++this.generation;
      void this.watch(generation);
    } else if (isGone(error)) {
      void this.relist();
    } else {
      this.retryLater(`watch ended: ${describe(error)}`);
    }
  }

  private retryLater(why: string): void {
    if (this.stopped) return;
    const generation = ++this.generation;
    this.handle?.abort();
    this.handle = undefined;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.options.maxBackoffMs);
    this.options.log(`${this.name}: ${why}; relisting in ${delay} ms`);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (generation === this.generation && !this.stopped) void this.relist();
    }, delay);
  }

  private armSilenceTimer(generation: number): void {
    clearTimeout(this.silenceTimer);
    this.silenceTimer = setTimeout(() => {
      if (generation === this.generation && !this.stopped) {
        this.retryLater(`no watch traffic for ${this.options.silenceMs} ms`);
      }
    }, this.options.silenceMs);
  }

  /** Replaces the cache with a fresh list, telling handlers what changed. */
  /** Whether the object has the metadata this informer requires; logs it when not. */
  private complete(object: T): boolean {
    const metadata = (object.metadata ?? {}) as Record<string, unknown>;
    const missing = this.options.requires.filter(
      (field) => metadata[field] === undefined || metadata[field] === '',
    );
    if (missing.length)
      this.options.log(
        `${this.name}: left out ${objectKey(object)}, which has no metadata.${missing.join(', metadata.')}`,
      );
    return missing.length === 0;
  }

  private replace(items: T[]): void {
    const fresh = new Map(items.filter((item) => this.complete(item)).map((item) => [objectKey(item), item]));
    for (const [key, old] of this.cache) {
      if (!fresh.has(key)) {
        this.remove(key);
        this.emit((h) => h.delete?.(old));
      }
    }
    for (const [key, item] of fresh) {
      const old = this.cache.get(key);
      this.store(key, item);
      if (!old) this.emit((h) => h.add?.(item));
      else if (old.metadata?.resourceVersion !== item.metadata?.resourceVersion)
        this.emit((h) => h.update?.(item, old));
    }
  }

  private store(key: string, object: T): void {
    this.remove(key);
    this.cache.set(key, object);
    for (const index of this.indexes.values()) indexObject(index, key, object);
  }

  private remove(key: string): void {
    const old = this.cache.get(key);
    if (old === undefined) return;
    this.cache.delete(key);
    for (const index of this.indexes.values()) {
      for (const value of index.valuesOf(old)) {
        const bucket = index.buckets.get(value);
        bucket?.delete(key);
        if (bucket?.size === 0) index.buckets.delete(value);
      }
    }
  }

  private emit(call: (handlers: InformerHandlers<T>) => void): void {
    for (const handlers of this.handlers) call(handlers);
  }
}

function indexObject<T>(index: Index<T>, key: string, object: T): void {
  for (const value of index.valuesOf(object)) {
    let bucket = index.buckets.get(value);
    if (!bucket) index.buckets.set(value, (bucket = new Map<string, T>()));
    bucket.set(key, object);
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  return JSON.stringify(error);
}
