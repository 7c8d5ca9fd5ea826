/**
 * The run-level status (phase, progress, usage, conditions) built from the stages, and the Events
 * that a change of it is worth: two pure functions, so what is shown and what is told agree.
 */
import type { ConditionReason, EventReason } from '../../api/reasons.js';
import type { ConditionV2, StageStatusV2, StatusV2 } from '../../api/v2/runbook.js';
import { crossedAlert, isCapped, type Usage } from '../stage/budget.js';
import { removeCondition, setCondition, timestamp } from '../model/conditions.js';
import { formatMicros, moneyMicros } from '../../api/grammar.js';
import { FINISHED_RUN_PHASES } from '../../api/phases.js';
import { isTerminalStage, type Run } from './run.js';
import type { EngineEvent } from '../model/types.js';
import { parseItemName } from '../spec/for-each.js';

export const TERMINAL_RUN: ReadonlySet<string> = new Set(FINISHED_RUN_PHASES);
const BY_CONDITION: ReadonlySet<string> = new Set(['ConditionNotMet', 'DependencySkipped']);

/** How a run ended before all its stages could finish. */
export interface Ending {
  phase: 'Failed' | 'TimedOut' | 'BudgetExceeded' | 'Cancelled';
  /** The condition that says why: Failed, TimedOut, BudgetExceeded or Cancelled. */
  condition: 'Failed' | 'TimedOut' | 'BudgetExceeded' | 'Cancelled';
  reason: ConditionReason;
  message: string;
}

/** Whether a run in this state is waiting at a gate with nothing running: its clock stops. */
function waitsAtGate(run: Run, waiting: string[]): boolean {
  return waiting.length > 0 && ![...run.stages.values()].some((stage) => stage.phase === 'Running');
}

/** The run's conditions as this reconcile sets and removes them. */
class Conditions {
  constructor(
    public list: ConditionV2[],
    private readonly now: Date,
    private readonly generation: number,
  ) {}

  set(type: string, state: 'True' | 'False', reason: ConditionReason, message: string): void {
    this.list = setCondition(this.list, { type, status: state, reason, message }, this.now, this.generation);
  }

  remove(type: string): void {
    this.list = removeCondition(this.list, type);
  }
}

function succeededMessage(stages: StageStatusV2[]): string {
  const skipped = stages.filter((stage) => stage.phase === 'Skipped').length;
  return skipped
    ? `all ${stages.length - skipped} stages that ran succeeded; ${skipped} skipped by their when conditions`
    : `all ${stages.length} stages succeeded`;
}

/** The phase, and the Ready and Progressing conditions (with the ending's own, if it ends). */
function setPhase(
  run: Run,
  status: StatusV2,
  conditions: Conditions,
  ending: Ending | undefined,
  waiting: string[],
): void {
  // Items of forEach stages count through their stage.
  const stages = (status.stages ?? []).filter((stage) => !parseItemName(stage.name));
  const done = stages.filter(isTerminalStage).length;
  if (ending) {
    status.phase = ending.phase;
    for (const type of [ending.condition, 'Ready', 'Progressing'])
      conditions.set(type, type === ending.condition ? 'True' : 'False', ending.reason, ending.message);
    return;
  }
  if (done === stages.length) {
    status.phase = 'Succeeded';
    // A stage its `when` skipped (and what only it fed) did as the runbook asked.
    const failed = stages
      .filter((stage) => stage.phase !== 'Succeeded' && !BY_CONDITION.has(stage.reason ?? ''))
      .map((stage) => `${stage.name} (${stage.phase})`);
    const [reason, message]: [ConditionReason, string] = stages.some((stage) => stage.workflow === 'fallback')
      ? ['CompletedViaFallback', 'finished through the fallback workflow']
      : failed.length
        ? ['CompletedWithFailures', `finished; not succeeded: ${failed.join(', ')}`]
        : ['Succeeded', succeededMessage(stages)];
    conditions.set('Ready', 'True', reason, message);
    conditions.set('Progressing', 'False', reason, message);
    return;
  }
  const started = stages.some((stage) => stage.phase !== 'Pending');
  const running = stages.filter((stage) => stage.phase === 'Running').map((stage) => stage.name);
  status.phase = waitsAtGate(run, waiting) ? 'WaitingForApproval' : started ? 'Running' : 'Pending';
  // Ready's reason is the phase (Pending, Running, WaitingForApproval), never another state.
  conditions.set('Ready', 'False', status.phase, `${done}/${stages.length} stages finished`);
  if (run.spec.suspend)
    conditions.set('Progressing', 'False', 'Suspended', 'spec.suspend is true: no new stage starts');
  else if (running.length)
    conditions.set('Progressing', 'True', 'StagesRunning', `running: ${running.join(', ')}`);
  else if (waiting.length)
    conditions.set('Progressing', 'False', 'WaitingForApproval', `waiting for ${waiting.join('; ')}`);
  else conditions.set('Progressing', 'True', 'Waiting', 'waiting for stages to become ready');
}

/** The conditions beside the phase: ApprovalPending, FallbackActive, Degraded, Suspended, BudgetAlert. */
function setStateConditions(
  run: Run,
  status: StatusV2,
  conditions: Conditions,
  waiting: string[],
  usage: Usage,
): void {
  const terminal = TERMINAL_RUN.has(status.phase ?? '');
  const viaFallback = (status.stages ?? []).some((stage) => stage.workflow === 'fallback');
  if (waiting.length && !terminal)
    conditions.set('ApprovalPending', 'True', 'WaitingForApproval', `waiting for ${waiting.join('; ')}`);
  else conditions.remove('ApprovalPending');
  if (viaFallback) {
    const active = !terminal && run.activeWorkflow === 'fallback';
    conditions.set(
      'FallbackActive',
      active ? 'True' : 'False',
      active ? 'FallbackTriggered' : 'FallbackFinished',
      active
        ? 'the fallback workflow runs instead of the main workflow'
        : 'the fallback workflow has finished',
    );
  }
  const breakers = [...run.openBreakers.keys()];
  if (viaFallback && status.phase === 'Succeeded') {
    conditions.set(
      'Degraded',
      'True',
      'CompletedViaFallback',
      'the run finished through its fallback workflow',
    );
  } else if (breakers.length && !terminal) {
    const message = `circuit breaker open for agent ${breakers.join(', ')}; their stages wait`;
    conditions.set('Degraded', 'True', 'CircuitOpen', message);
  } else {
    conditions.remove('Degraded');
  }
  if (run.spec.suspend) conditions.set('Suspended', 'True', 'Suspended', 'spec.suspend is true');
  else conditions.remove('Suspended');
  if (crossedAlert(run.spec, usage)) {
    const threshold = formatMicros(moneyMicros(run.spec.budgets?.cost?.alertThreshold ?? '0'));
    const message = `spent $${formatMicros(usage.costMicros)}, at or above the alert threshold of $${threshold}`;
    conditions.set('BudgetAlert', 'True', 'CostAlertThresholdReached', message);
  }
}

export function buildStatus(run: Run, ending: Ending | undefined, waiting: string[]): StatusV2 {
  const { runbook, now } = run.input;
  const stages = [...run.stages.values()];
  const status: StatusV2 = { ...run.status, stages };
  const counted = stages.filter((stage) => !parseItemName(stage.name));
  status.progress = `${counted.filter(isTerminalStage).length}/${counted.length}`;
  const usage = run.usage();
  const capped = isCapped(usage) || stages.some((stage) => stage.usage?.capped);
  status.usage = {
    tokens: usage.tokens,
    costUSD: formatMicros(usage.costMicros),
    ...(capped ? { capped: true } : {}),
  };
  const conditions = new Conditions(status.conditions ?? [], now, runbook.metadata.generation);
  setPhase(run, status, conditions, ending, waiting);
  setStateConditions(run, status, conditions, waiting, usage);
  status.conditions = conditions.list;
  if (TERMINAL_RUN.has(status.phase ?? '') && !TERMINAL_RUN.has(run.status.phase ?? ''))
    status.completionTime = timestamp(now);
  return status;
}

const alerting = (status: StatusV2) =>
  status.conditions?.find((condition) => condition.type === 'BudgetAlert' && condition.status === 'True');

/** The Event that says how a run ended. */
const RUN_ENDED: Record<Ending['phase'] | 'Succeeded', EventReason> = {
  Succeeded: 'RunSucceeded',
  Failed: 'RunFailed',
  TimedOut: 'RunTimedOut',
  BudgetExceeded: 'RunBudgetExceeded',
  Cancelled: 'RunCancelled',
};

/** The Events of the run itself that going from `before` to `after` is worth, in causal order (after the stages'). */
export function runEvents(before: StatusV2, after: StatusV2, ending: Ending | undefined): EngineEvent[] {
  const events: EngineEvent[] = [];
  const alert = alerting(after);
  if (alert && !alerting(before))
    events.push({ type: 'Warning', reason: 'BudgetAlert', message: alert.message });
  const phase = after.phase ?? '';
  if (TERMINAL_RUN.has(phase) && !TERMINAL_RUN.has(before.phase ?? '')) {
    const succeeded = phase === 'Succeeded';
    events.push({
      type: succeeded ? 'Normal' : 'Warning',
      reason: RUN_ENDED[phase as Ending['phase'] | 'Succeeded'],
      message: succeeded
        ? `runbook finished: ${after.progress ?? ''} stages`
        : `runbook ${phase}: ${ending?.message ?? ''}`,
    });
  }
  return events;
}
