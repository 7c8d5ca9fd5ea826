/**
 * The concurrency limits of engine/run/concurrency.ts over the runbook informer: who holds a slot and
 * who waits, from the runbooks' statuses, plus the slots this process granted that the cache does
 * not show yet (the informer lags the status write by a moment, and two reconciles in that moment
 * must not both take the last slot). A restarted operator starts with none of those: every grant
 * it made before is in a status written before any Job of the run.
 */
import { timestamp } from '../engine/model/conditions.js';
import {
  holdsSlot,
  slotFor,
  type ConcurrencyLimits,
  type QueueMember,
  type Slot,
} from '../engine/run/concurrency.js';
import { maxConcurrentPipelines } from '../engine/spec/conductor.js';
import { effectiveSpec } from '../engine/spec/effective.js';
import type { SpecV2 } from '../api/v2/runbook.js';
import { objectKey, type SharedInformer } from '../kube/informer.js';
import type { CachedRunbook } from '../kube/types.js';

const queuedSince = (runbook: CachedRunbook) =>
  runbook.status?.phase === 'Queued'
    ? runbook.status.conditions?.find((condition) => condition.type === 'Queued')?.lastTransitionTime
    : undefined;

/** The conductor limit of a runbook, read safely: a runbook's spec is not to be trusted here. */
function ownLimit(spec: SpecV2): number | undefined {
  try {
    return maxConcurrentPipelines(effectiveSpec(spec));
  } catch {
    return undefined;
  }
}

export class RunSlots {
  /** Runbook key -> the execution granted a slot, until the cache shows that execution. */
  private readonly granted = new Map<string, string>();

  constructor(
    private readonly runbooks: SharedInformer<CachedRunbook>,
    private readonly limits: () => ConcurrencyLimits,
  ) {}

  /** Whether the run of `runbook` (whose spec is `spec`) may start; undefined when nothing limits it. */
  ask(runbook: CachedRunbook, spec: SpecV2, now: Date): Slot | undefined {
    const limits = this.limits();
    const own = ownLimit(spec);
    if (own === undefined && limits.cluster === undefined && limits.perNamespace === undefined)
      return undefined;
    const key = objectKey(runbook);
    // A running run keeps its slot: no need to look at the others.
    if (holdsSlot(runbook.status) || this.grantPending(key, runbook)) return { granted: true };
    const members: QueueMember[] = [];
    for (const other of this.runbooks.values()) {
      const otherKey = objectKey(other);
      if (otherKey === key || other.metadata.deletionTimestamp) continue;
      members.push({
        key: otherKey,
        namespace: other.metadata.namespace,
        holds: holdsSlot(other.status) || this.grantPending(otherKey, other),
        ...(queuedSince(other) ? { waitingSince: queuedSince(other) } : {}),
      });
    }
    members.push({
      key,
      namespace: runbook.metadata.namespace,
      holds: false,
      waitingSince: queuedSince(runbook) ?? timestamp(now),
      ...(own === undefined ? {} : { limit: own }),
    });
    return slotFor(key, members, limits);
  }

  /** Records that runbook `key` started `execution` with a slot it did not hold before. */
  hold(key: string, execution: string): void {
    this.granted.set(key, execution);
  }

  /** Gives back a slot whose run was never recorded (its status write failed). */
  release(key: string): void {
    this.granted.delete(key);
  }

  private grantPending(key: string, cached: CachedRunbook): boolean {
    const execution = this.granted.get(key);
    if (execution === undefined) return false;
    // From the moment the cache shows the run, its status says whether it holds a slot.
    if (cached.status?.execution === execution && cached.status.phase !== 'Queued') {
      this.granted.delete(key);
      return false;
    }
    return true;
  }
}
