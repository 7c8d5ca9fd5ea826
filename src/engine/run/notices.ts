/**
 * Notices to people: a gate starts waiting, the run fails, raises its budget alert or is
 * cancelled. Each is decided from the change between the stored status and the next one and
 * recorded in status.notices in the same write, before it is sent: a restarted operator never
 * decides it again, so a notice is given at most once per run.
 */
import { approvalCommand } from '../spec/gates.js';
import type { NoticeEvent } from '../../api/catalog.js';
import type { StatusV2 } from '../../api/v2/runbook.js';
import { timestamp } from '../model/conditions.js';
import type { RunbookObject } from '../model/types.js';

export interface Notice {
  /** Unique per run: the event, and for a gate the gate. */
  name: string;
  event: NoticeEvent;
  message: string;
  execution: string;
  time: string;
}

const FAILED = new Set(['Failed', 'TimedOut', 'BudgetExceeded']);

const condition = (status: StatusV2, type: string) =>
  status.conditions?.find((entry) => entry.type === type && entry.status === 'True');

function candidates(runbook: RunbookObject, next: StatusV2): Omit<Notice, 'execution' | 'time'>[] {
  const who = `${runbook.metadata.namespace}/${runbook.metadata.name}`;
  const found: Omit<Notice, 'execution' | 'time'>[] = [];
  for (const gate of next.gates ?? []) {
    if (gate.phase !== 'Pending' || !gate.since) continue;
    found.push({
      name: `GateWaiting/${gate.name}`,
      event: 'GateWaiting',
      message: `${who} waits for approval of gate ${gate.name}${gate.deadline ? ` (until ${gate.deadline})` : ''}: ${approvalCommand(runbook.metadata.name, runbook.metadata.namespace, gate.name)}`,
    });
  }
  if (FAILED.has(next.phase ?? '')) {
    const failed = condition(next, 'Failed') ?? next.conditions?.find((entry) => entry.type === 'Ready');
    found.push({
      name: 'RunFailed',
      event: 'RunFailed',
      message: `${who} ended ${next.phase ?? ''}: ${failed?.reason ?? ''}: ${failed?.message ?? ''}`,
    });
  }
  if (next.phase === 'Cancelled')
    found.push({ name: 'RunCancelled', event: 'RunCancelled', message: `${who} was cancelled` });
  const alert = condition(next, 'BudgetAlert');
  if (alert)
    found.push({
      name: 'BudgetAlert',
      event: 'BudgetAlert',
      message: `${who}: ${alert.message}`,
    });
  return found;
}

/** The most notices one run records (a gate per gate, and one of each other event). */
const MAX_NOTICES = 40;

/** The notices `next` gives that this run has not given, recorded into `next.notices`. */
export function newNotices(runbook: RunbookObject, next: StatusV2, now: Date): Notice[] {
  const given = new Set((next.notices ?? []).map((notice) => notice.name));
  const time = timestamp(now);
  const fresh = candidates(runbook, next)
    .filter((notice) => !given.has(notice.name))
    .slice(0, Math.max(0, MAX_NOTICES - given.size));
  if (fresh.length) next.notices = [...(next.notices ?? []), ...fresh.map(({ name }) => ({ name, time }))];
  return fresh.map((notice) => ({ ...notice, execution: next.execution ?? '', time }));
}
