/**
 * A run over a concurrency limit (run/concurrency.ts) waits in the queue: phase Queued, its place
 * and what it waits for in its Queued condition, no start time (its clock does not run) and no
 * Job. Leaving the queue (started, or cancelled while it waited) says how long it waited.
 */
import type { StatusV2 } from '../../api/v2/runbook.js';
import { setCondition } from '../model/conditions.js';
import type { Decision, RunbookObject } from '../model/types.js';
import type { Waiting } from './concurrency.js';

/** How often a queued run is looked at again when no runbook ending brings it back sooner. */
const QUEUED_RECHECK_MS = 30_000;

/** The decision for a run that waits for a slot; `fresh` is the status it would start with. */
export function queuedDecision(
  runbook: RunbookObject,
  fresh: StatusV2,
  slot: Waiting,
  deletes: Decision['delete'],
  now: Date,
): Decision {
  const { generation } = runbook.metadata;
  const previous = runbook.status;
  const wasQueued = previous?.phase === 'Queued';
  let conditions = setCondition(
    wasQueued ? (previous.conditions ?? []) : [],
    { type: 'Queued', status: 'True', reason: 'WaitingForSlot', message: slot.message },
    now,
    generation,
  );
  conditions = setCondition(
    conditions,
    { type: 'Ready', status: 'False', reason: 'Queued', message: slot.message },
    now,
    generation,
  );
  const status = { ...fresh, phase: 'Queued' as const, conditions };
  delete status.startTime;
  return {
    status,
    create: [],
    delete: deletes,
    events: wasQueued ? [] : [{ type: 'Normal', reason: 'Queued', message: slot.message }],
    notifications: [],
    requeueAfterMs: QUEUED_RECHECK_MS,
  };
}

/** The conditions of a run that leaves the queue (started, or cancelled while it waited). */
export function leftQueue(previous: StatusV2, now: Date, generation: number, cancelled: boolean) {
  const since = previous.conditions?.find((condition) => condition.type === 'Queued')?.lastTransitionTime;
  const waited = since ? ` after waiting for a slot since ${since}` : '';
  return setCondition(
    [],
    {
      type: 'Queued',
      status: 'False',
      reason: cancelled ? 'Cancelled' : 'Started',
      message: `${cancelled ? 'cancelled' : 'started'}${waited}`,
    },
    now,
    generation,
  );
}
