/**
 * The watches that enqueue runbooks, declared as controller-runtime's builder declares them: For
 * the runbooks themselves, Owns for the Jobs they own, Watches for anything else, with a function
 * that maps an object to the runbooks it concerns. Predicates say which events are worth a
 * reconcile (controller-runtime's predicate.Funcs); every event is, where none is given.
 *
 * A runbook that appears (created, or listed at start), and any object of an informer's initial
 * list, is enqueued at low priority: under a burst of new runbooks, or the thousands listed when
 * the operator starts, a run in progress whose Job just ended is reconciled first, as
 * controller-runtime's priority queue does for the initial list. A runbook not yet started loses a
 * few hundred milliseconds; a run in progress would lose them on every stage.
 */
import { objectKey, type SharedInformer, type KubeObject } from '../kube/informer.js';
import type { Priority, WorkQueue } from '../kube/work-queue.js';
import type { ObjectMeta } from '../kube/types.js';
import { controllerOwner } from './job-cache.js';

export interface Predicates<T> {
  add?: (object: T) => boolean;
  update?: (next: T, old: T) => boolean;
  delete?: (object: T) => boolean;
}

/** The keys of the runbooks an object concerns. */
export type ToRunbooks<T> = (object: T) => Iterable<string>;

/** The key of the AgentRunbook that controls an object, if one does. */
export function ownerKey(object: { metadata: ObjectMeta }): string[] {
  const owner = controllerOwner(object.metadata, 'AgentRunbook');
  return owner ? [`${object.metadata.namespace ?? ''}/${owner.name}`] : [];
}

export class Watches {
  constructor(private readonly queue: Pick<WorkQueue, 'add'>) {}

  /** The runbooks themselves. */
  for<T extends KubeObject>(informer: SharedInformer<T>, predicates: Predicates<T> = {}): this {
    return this.subscribe(informer, (object) => [objectKey(object)], predicates, 'low');
  }

  /** Objects a runbook controls (its Jobs): their owner. */
  owns<T extends KubeObject & { metadata: ObjectMeta }>(
    informer: SharedInformer<T>,
    predicates: Predicates<T> = {},
  ): this {
    return this.subscribe(informer, ownerKey, predicates, 'normal');
  }

  /** Any other object, mapped to the runbooks it concerns. */
  watches<T extends KubeObject>(
    informer: SharedInformer<T>,
    toRunbooks: ToRunbooks<T>,
    predicates: Predicates<T> = {},
  ): this {
    return this.subscribe(informer, toRunbooks, predicates, 'normal');
  }

  private subscribe<T extends KubeObject>(
    informer: SharedInformer<T>,
    toRunbooks: ToRunbooks<T>,
    predicates: Predicates<T>,
    addPriority: Priority,
  ): this {
    const enqueue = (object: T, priority: Priority = 'normal') => {
      for (const key of toRunbooks(object)) this.queue.add(key, priority);
    };
    informer.on({
      add: (object) => {
        // Not synced yet: the object comes from the initial list.
        if (predicates.add?.(object) ?? true) enqueue(object, informer.hasSynced ? addPriority : 'low');
      },
      update: (object, old) => {
        if (predicates.update?.(object, old) ?? true) enqueue(object);
      },
      delete: (object) => {
        if (predicates.delete?.(object) ?? true) enqueue(object);
      },
    });
    return this;
  }
}
