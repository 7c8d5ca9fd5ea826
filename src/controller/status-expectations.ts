/**
 * The runbook status writes the cache has not shown yet: client-go's expectations, for the
 * runbook's own status. A reconcile that starts before the watch brought its own last write
 * would decide from the status before it and meet a 409 (then a rate-limited retry). It waits
 * instead: the watch's update to the written resourceVersion enqueues the runbook again at once.
 * An expectation older than STATUS_EXPECTATION_TTL_MS is let go (a relist may skip that version), and
 * the reconcile goes on as it would without one.
 */
import { objectKey, type SharedInformer } from '../kube/informer.js';
import type { CachedRunbook } from '../kube/types.js';

export const STATUS_EXPECTATION_TTL_MS = 2000;

interface Expected {
  resourceVersion: string;
  at: number;
  /** A reconcile waits for it: enqueue the runbook when it arrives. */
  awaited: boolean;
}

export class StatusExpectations {
  private readonly expected = new Map<string, Expected>();

  constructor(
    runbooks: Pick<SharedInformer<CachedRunbook>, 'on'>,
    private readonly enqueue: (key: string) => void,
    private readonly now: () => number = Date.now,
  ) {
    const seen = (runbook: CachedRunbook) => {
      const key = objectKey(runbook);
      const expected = this.expected.get(key);
      if (expected?.resourceVersion !== runbook.metadata.resourceVersion) return;
      this.expected.delete(key);
      if (expected.awaited) this.enqueue(key);
    };
    runbooks.on({ add: seen, update: seen, delete: (runbook) => this.expected.delete(objectKey(runbook)) });
  }

  /** The status of `key` was written, and the API server stored it as `resourceVersion`. */
  written(key: string, resourceVersion: string | undefined): void {
    if (resourceVersion) this.expected.set(key, { resourceVersion, at: this.now(), awaited: false });
  }

  /**
   * Whether the cached runbook is older than the last status written for it. Then the watch's
   * update to the written version enqueues it.
   */
  behind(runbook: CachedRunbook): boolean {
    const key = objectKey(runbook);
    const expected = this.expected.get(key);
    if (!expected) return false;
    if (
      expected.resourceVersion === runbook.metadata.resourceVersion ||
      this.now() - expected.at > STATUS_EXPECTATION_TTL_MS
    ) {
      this.expected.delete(key);
      return false;
    }
    expected.awaited = true;
    return true;
  }
}
