/**
 * The controller's stored results (ResultCache) for engine tests: one namespace's CachedResults,
 * kept from the decisions' cacheStores as the controller would create them.
 */
import type { CacheStore, ResultCacheView, StoredResult } from '../../src/engine/model/types.js';

export class MemoryResults {
  readonly stored = new Map<string, CacheStore>();
  /** image -> the digest a Pod of it last reported. */
  readonly digests = new Map<string, string>();

  keep(stores: readonly CacheStore[]): void {
    // As the API server: a name taken keeps the object it has.
    for (const store of stores)
      if (!this.stored.has(store.name)) this.stored.set(store.name, structuredClone(store));
  }

  view(now: Date): ResultCacheView {
    return {
      lookup: (key) => {
        const fresh = [...this.stored.values()].filter(
          (store) => store.spec.key === key && Date.parse(store.spec.expiresAt) > now.getTime(),
        );
        fresh.sort((a, b) => Date.parse(b.spec.origin.time) - Date.parse(a.spec.origin.time));
        const newest = fresh[0];
        if (!newest) return undefined;
        const spec: StoredResult['spec'] = { ...newest.spec };
        delete (spec as { data?: unknown }).data;
        return { name: newest.name, spec };
      },
      imageDigest: (image) => this.digests.get(image),
    };
  }
}
