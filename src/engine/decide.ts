/**
 * The engine's entry point: from the runbook, the Jobs observed for it and the time, decide the
 * Jobs to create and delete, the new status, the Events to record and when to look again.
 * Pure: no I/O, no clock, no randomness. The controller writes the status first and then creates
 * the Jobs, so a restart between the two finds the attempt recorded and creates the same Job.
 */
import { ANNOTATION_RERUN } from '../api/labels.js';
import type { StageStatusV2, StatusV2 } from '../api/v2/runbook.js';
import { exhausted } from './budget.js';
import { timestamp } from './conditions.js';
import { formatElapsed, runLimitMs } from './deadlines.js';
import { effectiveSpec } from './effective.js';
import { applyGates } from './gate-state.js';
import { graphProblem } from './graph.js';
import { executionId } from './naming.js';
import { isTerminalStage, Run } from './run-state.js';
import { summarize, TERMINAL_RUN, type Ending } from './summary.js';
import type { Decision, EngineInput, Notification, RunbookObject } from './types.js';
import {
  allStages,
  emergencyStages,
  emergencyTargets,
  fallbackStages,
  mainStages,
  validationStages,
} from './workflow-stages.js';

export { POD_REPORT_GRACE_MS } from './run-state.js';

function freshStatus(runbook: RunbookObject, execution: string, now: Date): StatusV2 {
  return {
    observedGeneration: runbook.metadata.generation,
    execution,
    phase: 'Pending',
    startTime: timestamp(now),
    stages: [...mainStages(runbook.spec), ...validationStages(runbook.spec)].map((stage) => ({
      name: stage.name,
      workflow: stage.workflow,
      phase: 'Pending' as const,
    })),
    workflow: { active: 'main', fallbackTriggers: 0 },
    conditions: [],
  };
}

/** The run's deadline, counted from the start time in status (so a restart never extends it). */
function checkDeadline(run: Run): Ending | undefined {
  const limit = runLimitMs(run.spec);
  const start = Date.parse(run.status.startTime ?? '');
  if (limit === undefined || Number.isNaN(start)) return undefined;
  const elapsed = run.now.getTime() - start;
  if (elapsed >= limit) {
    return {
      phase: 'TimedOut',
      condition: 'TimedOut',
      reason: 'DeadlineExceeded',
      message: `the run took ${formatElapsed(elapsed)}, past its limit of ${formatElapsed(limit)}`,
    };
  }
  run.runRemainingMs = limit - elapsed;
  run.requeueAfter(limit - elapsed);
  return undefined;
}

/** An emergency error stops everything at once, tells the notify targets, and runs the emergency steps. */
function startEmergency(run: Run, notifications: Notification[]): void {
  const trigger = run.emergency;
  if (!trigger || run.activeWorkflow === 'emergency') return;
  const cause = `${trigger.errorClass} reported by stage ${trigger.stage}`;
  run.stop(cause, ['main', 'fallback', 'validation'], 'EmergencyStopped', 'EmergencyStopped');
  run.activate('emergency', emergencyStages(run.spec));
  run.status.workflow = { ...run.status.workflow, active: 'emergency', emergencyCause: cause };
  const { namespace, name } = run.input.runbook.metadata;
  for (const target of emergencyTargets(run.spec)) {
    const message = `emergency stop of runbook ${namespace}/${name}: ${cause}`;
    notifications.push({ target, reason: 'EmergencyStop', message });
    run.event('Warning', 'EmergencyNotification', `notifying ${target}: ${message}`);
  }
}

/** Counts fallback triggers and lets the fallback workflow take over at the threshold. */
function considerFallback(run: Run): void {
  const fallback = run.spec.workflows?.fallback;
  const triggers = (run.status.workflow?.fallbackTriggers ?? 0) + run.newFallbackTriggers;
  run.status.workflow = { ...run.status.workflow, active: run.activeWorkflow, fallbackTriggers: triggers };
  if (!fallback || run.activeWorkflow !== 'main' || triggers < (fallback.trigger.threshold ?? 1)) return;
  const cause = `${triggers} failures of classes ${fallback.trigger.conditions.join(', ')}`;
  run.stop(
    `the fallback workflow took over after ${cause}`,
    ['main'],
    'StoppedForFallback',
    'FallbackActive',
  );
  run.activate('fallback', fallbackStages(run.spec));
  run.event('Warning', 'FallbackActivated', `the fallback workflow takes over after ${cause}`);
}

/** Moves from a finished main (or fallback) workflow to the validation stages. */
function advanceWorkflow(run: Run): boolean {
  const active = run.activeWorkflow;
  if (active !== 'main' && active !== 'fallback') return false;
  if (!run.stagesOf(active).every(isTerminalStage)) return false;
  if (run.stagesOf('validation').length === 0) return false;
  run.activate('validation');
  return true;
}

function endingFor(stage: StageStatusV2): Ending {
  const workflow = stage.workflow ?? 'main';
  const reason =
    stage.reason === 'ValidationFailed'
      ? 'ValidationFailed'
      : workflow === 'fallback'
        ? 'FallbackFailed'
        : 'StageFailed';
  return {
    phase: 'Failed',
    condition: 'Failed',
    reason,
    message: `stage ${stage.name} failed: ${stage.message ?? stage.reason ?? ''}`,
  };
}

export function decide(input: EngineInput): Decision {
  const { jobs, now } = input;
  const spec = effectiveSpec(input.runbook.spec);
  const runbook: RunbookObject = { ...input.runbook, spec };
  const { generation, annotations } = runbook.metadata;
  const execution = executionId(generation, annotations?.[ANNOTATION_RERUN]);
  const fresh = runbook.status?.execution !== execution;
  const status: StatusV2 = fresh
    ? freshStatus(runbook, execution, now)
    : structuredClone(runbook.status ?? {});
  status.observedGeneration = generation;
  status.effective = {
    ...(spec.environment ? { environment: spec.environment } : {}),
    execution: spec.execution ?? {},
    budgets: spec.budgets ?? {},
  };
  const run = new Run({ ...input, runbook }, execution, status);
  const notifications: Notification[] = [];

  for (const job of jobs) {
    if (job.execution !== execution && job.state === 'active') {
      run.deletes.push({ name: job.name, reason: job.generation !== generation ? 'SpecChanged' : 'Rerun' });
    }
  }
  if (fresh) run.event('Normal', 'RunStarted', `started run ${execution} of generation ${generation}`);
  if (TERMINAL_RUN.has(status.phase ?? '')) {
    return { status, create: [], delete: run.deletes, events: run.events, notifications };
  }

  let ending: Ending | undefined;
  let waiting: string[] = [];
  const problem = graphProblem(allStages(spec));
  if (problem) {
    ending = { phase: 'Failed', condition: 'Failed', reason: 'InvalidDependencies', message: problem };
  } else {
    run.observeJobs();
    startEmergency(run, notifications);
    considerFallback(run);
    ending = checkDeadline(run);
    // A used-up budget stops the stages still to come; a run with nothing left to do has simply finished.
    const spent = exhausted(spec, run.usage(), run.usesReserve);
    const unfinished = [...run.stages.values()].some((stage) => !isTerminalStage(stage));
    if (!ending && spent && unfinished && run.activeWorkflow !== 'emergency') {
      ending = { phase: 'BudgetExceeded', condition: 'BudgetExceeded', ...spent };
    }
    if (!ending) {
      const gates = applyGates(run);
      waiting = gates.waiting;
      if (gates.ending) ending = { phase: 'Failed', condition: 'Failed', ...gates.ending };
    }
    if (!ending) {
      run.recreateUnobserved();
      for (let changed = true; changed;) {
        if (run.activeWorkflow === 'emergency') {
          if (run.stagesOf('emergency').every(isTerminalStage)) {
            ending = {
              phase: 'Failed',
              condition: 'Failed',
              reason: 'EmergencyStop',
              message: `emergency stop: ${run.status.workflow?.emergencyCause ?? ''}`,
            };
            break;
          }
        } else {
          const aborting = run.abortingStage();
          if (aborting) {
            ending = endingFor(aborting);
            break;
          }
        }
        changed = advanceWorkflow(run) || run.skipBlocked() || run.startReady();
      }
    }
  }
  if (ending) {
    run.stopAll(ending.message);
    run.requeueAfterMs = undefined;
    waiting = [];
  }
  return {
    status: summarize(run, ending, waiting),
    create: run.create,
    delete: run.deletes,
    events: run.events,
    notifications,
    ...(run.requeueAfterMs === undefined ? {} : { requeueAfterMs: run.requeueAfterMs }),
  };
}
