/**
 * Several namespaces' caches of one kind as one, as controller-runtime's multi-namespace cache:
 * an operator that may watch only some namespaces (a Role in each) lists and watches each of them
 * on its own, and its readers see one cache.
 */
import type { IndexFunc, InformerHandlers, KubeObject, SharedInformer } from './informer.js';

export class MultiNamespaceInformer<T extends KubeObject> implements SharedInformer<T> {
  private readonly byNamespace: ReadonlyMap<string, SharedInformer<T>>;

  constructor(
    readonly name: string,
    informers: ReadonlyMap<string, SharedInformer<T>>,
  ) {
    this.byNamespace = informers;
  }

  on(handlers: InformerHandlers<T>): void {
    for (const informer of this.byNamespace.values()) informer.on(handlers);
  }

  addIndex(name: string, valuesOf: IndexFunc<T>): void {
    for (const informer of this.byNamespace.values()) informer.addIndex(name, valuesOf);
  }

  byIndex(name: string, value: string): T[] {
    return [...this.byNamespace.values()].flatMap((informer) => informer.byIndex(name, value));
  }

  /** `namespace/name`: only that namespace's cache is read. */
  get(key: string): T | undefined {
    const namespace = key.slice(0, Math.max(0, key.indexOf('/')));
    return this.byNamespace.get(namespace)?.get(key);
  }

  *values(): IterableIterator<T> {
    for (const informer of this.byNamespace.values()) yield* informer.values();
  }

  get hasSynced(): boolean {
    return [...this.byNamespace.values()].every((informer) => informer.hasSynced);
  }

  async start(): Promise<void> {
    await Promise.all([...this.byNamespace.values()].map((informer) => informer.start()));
  }

  async waitForSync(): Promise<void> {
    await Promise.all([...this.byNamespace.values()].map((informer) => informer.waitForSync()));
  }

  stop(): void {
    for (const informer of this.byNamespace.values()) informer.stop();
  }
}
