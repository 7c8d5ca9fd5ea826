/**
 * How many runbooks may run at once, as Argo's semaphores: a runbook over a limit waits (phase
 * Queued) in the order it began to wait, and its clock does not run until it starts. Limits come
 * from where their author has a say: the runbook's conductor (maxConcurrentPipelines, for its own
 * namespace), and the operator's configuration (for each namespace, and for the cluster).
 *
 * A runbook holds a slot from the reconcile that starts its run until the run ends. Every figure
 * is derived from the runbooks' statuses (and the controller's grants its cache has not shown
 * yet), so a restarted operator finds the same holders and the same queue.
 */
import type { StatusV2 } from '../../api/v2/runbook.js';
import { TERMINAL_RUN } from './summary.js';
import { compareText } from '../../api/text.js';

/** The operator's limits (its configuration's concurrency section). */
export interface ConcurrencyLimits {
  /** Most runbooks that run at once in the whole cluster. */
  cluster?: number;
  /** Most runbooks that run at once in any one namespace. */
  perNamespace?: number;
}

/** One runbook as the queue sees it. */
export interface QueueMember {
  key: string;
  namespace: string;
  /** Its run has started and not ended: it holds a slot of every scope it is in. */
  holds: boolean;
  /** It waits for a slot: since when (its Queued condition), or its creation for a new one. */
  waitingSince?: string;
  /** Its conductor's maxConcurrentPipelines: a limit on its namespace for it to start. */
  limit?: number;
}

export interface Waiting {
  /** 1 for the next to start. */
  place: number;
  /** What it waits for, for its Queued condition. */
  message: string;
}

export type Slot = { granted: true } | ({ granted: false } & Waiting);

/** Whether a run holds a slot: started (its status has a start time) and not ended or queued. */
export function holdsSlot(status: StatusV2 | undefined): boolean {
  const phase = status?.phase ?? '';
  return Boolean(status?.startTime) && phase !== 'Queued' && !TERMINAL_RUN.has(phase);
}

interface Scope {
  name: string;
  limit: number;
  source: string;
  members: readonly QueueMember[];
}

const queueOrder = (a: QueueMember, b: QueueMember) =>
  compareText(a.waitingSince ?? '', b.waitingSince ?? '') || compareText(a.key, b.key);

const HOLDERS_SHOWN = 5;

/** Says the place, which only changes when one ahead leaves (those that join queue behind). */
function described(scope: Scope, holders: QueueMember[], place: number): string {
  const names = holders.slice(0, HOLDERS_SHOWN).map((member) => member.key);
  const more = holders.length > names.length ? `, and ${holders.length - names.length} more` : '';
  return `number ${place} in line for ${scope.name}: ${holders.length} of ${scope.limit} runbooks run (${names.join(', ')}${more}); the limit is ${scope.source}`;
}

/**
 * Whether runbook `key` may start its run now. It may when it already holds a slot, or when in
 * every scope that limits it, the runbooks that hold a slot and those waiting ahead of it leave
 * room: first come, first served, so none waits behind later ones for ever.
 */
export function slotFor(key: string, members: readonly QueueMember[], limits: ConcurrencyLimits): Slot {
  const self = members.find((member) => member.key === key);
  if (!self || self.holds) return { granted: true };
  const namespace = members.filter((member) => member.namespace === self.namespace);
  const inNamespace = `namespace ${self.namespace}`;
  const scopes: Scope[] = [
    [inNamespace, self.limit, "this runbook's maxConcurrentPipelines", namespace] as const,
    [inNamespace, limits.perNamespace, "the operator's concurrency.perNamespace", namespace] as const,
    ['the cluster', limits.cluster, "the operator's concurrency.cluster", members] as const,
  ].flatMap(([name, limit, source, scoped]) =>
    limit === undefined ? [] : [{ name, limit, source, members: scoped }],
  );
  for (const scope of scopes) {
    const holders = scope.members.filter((member) => member.holds);
    const waiting = scope.members.filter((member) => !member.holds && member.waitingSince !== undefined);
    const ahead = waiting.filter((member) => queueOrder(member, self) < 0).length;
    if (holders.length + ahead >= scope.limit) {
      const place = ahead + 1;
      return { granted: false, place, message: described(scope, holders, place) };
    }
  }
  return { granted: true };
}
