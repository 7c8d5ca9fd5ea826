/**
 * The run-level status (phase, progress, usage, conditions) built from the stages, and the Events
 * that a change of it is worth: two pure functions, so what is shown and what is told agree.
 */
import type { ConditionV2, StatusV2 } from '../../api/v2/runbook.js';
import { crossedAlert, isCapped } from '../stage/budget.js';
import { removeCondition, setCondition, timestamp } from '../model/conditions.js';
import { formatMicros, moneyMicros } from '../../api/grammar.js';
import { isTerminalStage, type Run } from './run.js';
import type { EngineEvent } from '../model/types.js';

export const TERMINAL_RUN = new Set(['Succeeded', 'Failed', 'TimedOut', 'BudgetExceeded', 'Cancelled']);

/** How a run ended before all its stages could finish. */
export interface Ending {
  phase: 'Failed' | 'TimedOut' | 'BudgetExceeded' | 'Cancelled';
  /** The condition that says why: Failed, TimedOut, BudgetExceeded or Cancelled. */
  condition: string;
  reason: string;
  message: string;
}

/** Whether a run in this state is waiting at a gate with nothing running: its clock stops. */
function waitsAtGate(run: Run, waiting: string[]): boolean {
  return waiting.length > 0 && ![...run.stages.values()].some((stage) => stage.phase === 'Running');
}

export function buildStatus(run: Run, ending: Ending | undefined, waiting: string[]): StatusV2 {
  const { runbook, now } = run.input;
  const generation = runbook.metadata.generation;
  const stages = [...run.stages.values()];
  const status: StatusV2 = { ...run.status, stages };
  const done = stages.filter(isTerminalStage).length;
  status.progress = `${done}/${stages.length}`;
  const usage = run.usage();
  const capped = isCapped(usage) || stages.some((stage) => stage.usage?.capped);
  status.usage = {
    tokens: usage.tokens,
    costUSD: formatMicros(usage.costMicros),
    ...(capped ? { capped: true } : {}),
  };
  let conditions: ConditionV2[] = status.conditions ?? [];
  const set = (type: string, state: 'True' | 'False', reason: string, message: string) => {
    conditions = setCondition(conditions, { type, status: state, reason, message }, now, generation);
  };
  const viaFallback = stages.some((stage) => stage.workflow === 'fallback');
  const running = stages.filter((stage) => stage.phase === 'Running').map((stage) => stage.name);

  if (ending) {
    status.phase = ending.phase;
    set(ending.condition, 'True', ending.reason, ending.message);
    set('Ready', 'False', ending.reason, ending.message);
    set('Progressing', 'False', ending.reason, ending.message);
  } else if (done === stages.length) {
    status.phase = 'Succeeded';
    const failed = stages
      .filter((stage) => stage.phase !== 'Succeeded')
      .map((stage) => `${stage.name} (${stage.phase})`);
    const [reason, message] = viaFallback
      ? ['CompletedViaFallback', 'finished through the fallback workflow']
      : failed.length
        ? ['CompletedWithFailures', `finished; not succeeded: ${failed.join(', ')}`]
        : ['Succeeded', `all ${stages.length} stages succeeded`];
    set('Ready', 'True', reason, message);
    set('Progressing', 'False', reason, message);
  } else {
    const started = stages.some((stage) => stage.phase !== 'Pending');
    status.phase = waitsAtGate(run, waiting) ? 'WaitingForApproval' : started ? 'Running' : 'Pending';
    // Ready's reason is the phase (Pending, Running, WaitingForApproval), never another state.
    set('Ready', 'False', status.phase, `${done}/${stages.length} stages finished`);
    if (runbook.spec.suspend)
      set('Progressing', 'False', 'Suspended', 'spec.suspend is true: no new stage starts');
    else if (running.length) set('Progressing', 'True', 'StagesRunning', `running: ${running.join(', ')}`);
    else if (waiting.length)
      set('Progressing', 'False', 'WaitingForApproval', `waiting for ${waiting.join('; ')}`);
    else set('Progressing', 'True', 'Waiting', 'waiting for stages to become ready');
  }

  if (waiting.length && !TERMINAL_RUN.has(status.phase)) {
    set('ApprovalPending', 'True', 'WaitingForApproval', `waiting for ${waiting.join('; ')}`);
  } else {
    conditions = removeCondition(conditions, 'ApprovalPending');
  }
  const terminal = TERMINAL_RUN.has(status.phase);
  if (viaFallback) {
    const active = !terminal && run.activeWorkflow === 'fallback';
    set(
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
    set('Degraded', 'True', 'CompletedViaFallback', 'the run finished through its fallback workflow');
  } else if (breakers.length && !terminal) {
    set(
      'Degraded',
      'True',
      'CircuitOpen',
      `circuit breaker open for agent ${breakers.join(', ')}; their stages wait`,
    );
  } else {
    conditions = removeCondition(conditions, 'Degraded');
  }
  if (runbook.spec.suspend) set('Suspended', 'True', 'Suspended', 'spec.suspend is true');
  else conditions = removeCondition(conditions, 'Suspended');

  if (crossedAlert(run.spec, usage)) {
    const threshold = formatMicros(moneyMicros(run.spec.budgets?.cost?.alertThreshold ?? '0'));
    const message = `spent $${formatMicros(usage.costMicros)}, at or above the alert threshold of $${threshold}`;
    set('BudgetAlert', 'True', 'CostAlertThresholdReached', message);
  }
  status.conditions = conditions;
  if (TERMINAL_RUN.has(status.phase) && !TERMINAL_RUN.has(run.status.phase ?? ''))
    status.completionTime = timestamp(now);
  return status;
}

const alerting = (status: StatusV2) =>
  status.conditions?.find((condition) => condition.type === 'BudgetAlert' && condition.status === 'True');

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
      reason: succeeded ? 'RunSucceeded' : `Run${phase === 'Failed' ? 'Failed' : phase}`,
      message: succeeded
        ? `runbook finished: ${after.progress ?? ''} stages`
        : `runbook ${phase}: ${ending?.message ?? ''}`,
    });
  }
  return events;
}
