/**
 * The rules that end a run before all its stages finish, each a small function that returns an
 * ending or nothing. decide() asks them in order and the first ending wins (cert-manager's
 * policies.Chain is the model), so a reader finds every way a run can end in one place.
 */
import type { StageStatusV2 } from '../../api/v2/runbook.js';
import { formatElapsed } from '../../api/grammar.js';
import { exhausted } from '../stage/budget.js';
import { graphProblem } from '../spec/graph.js';
import { isTerminalStage, type Run } from './run.js';
import type { Ending } from './summary.js';
import { abortingStage } from './workflows.js';
import { allStages } from '../spec/workflow-stages.js';

export type Policy = (run: Run) => Ending | undefined;

export function firstEnding(run: Run, chain: readonly Policy[]): Ending | undefined {
  for (const policy of chain) {
    const ending = policy(run);
    if (ending) return ending;
  }
  return undefined;
}

/** spec.status: Cancelled stops the run. */
export const cancelled: Policy = (run) =>
  run.spec.status === 'Cancelled'
    ? {
        phase: 'Cancelled',
        condition: 'Cancelled',
        reason: 'RunCancelled',
        message: 'spec.status is Cancelled: the run was stopped; remove spec.status to start a fresh run',
      }
    : undefined;

/** A graph no run can get past (only from a spec stored before the webhook checked it). */
export const invalidGraph: Policy = (run) => {
  const problem = graphProblem(allStages(run.spec));
  return problem
    ? { phase: 'Failed', condition: 'Failed', reason: 'InvalidDependencies', message: problem }
    : undefined;
};

/** The emergency workflow has run its steps: the run ends. */
export const emergencyFinished: Policy = (run) =>
  run.activeWorkflow === 'emergency' && run.stagesOf('emergency').every(isTerminalStage)
    ? {
        phase: 'Failed',
        condition: 'Failed',
        reason: 'EmergencyStop',
        message: `emergency stop: ${run.status.workflow?.emergencyCause ?? ''}`,
      }
    : undefined;

/** The run has used its time limit (time waiting at gates not counted). */
export function pastDeadline(time: { limitMs: number; usedMs: number } | undefined): Policy {
  return () =>
    time && time.usedMs >= time.limitMs
      ? {
          phase: 'TimedOut',
          condition: 'TimedOut',
          reason: 'DeadlineExceeded',
          message: `the run took ${formatElapsed(time.usedMs)} (not counting time waiting at gates), past its limit of ${formatElapsed(time.limitMs)}`,
        }
      : undefined;
}

/**
 * A used-up budget stops the stages still to come. A run with nothing left to do has simply
 * finished, unless it went over the budget (an agent reported more than its grant): that is the
 * run's outcome, whatever the stage that went over says.
 */
export const budgetSpent: Policy = (run) => {
  if (run.activeWorkflow === 'emergency') return undefined;
  const spent = exhausted(run.spec, run.usage(), run.usesReserve);
  const unfinished = [...run.stages.values()].some((stage) => !isTerminalStage(stage));
  if (!spent || !(unfinished || spent.over)) return undefined;
  return {
    phase: 'BudgetExceeded',
    condition: 'BudgetExceeded',
    reason: spent.reason,
    message: spent.message,
  };
};

function stageEnding(stage: StageStatusV2): Ending {
  const reason =
    stage.reason === 'ValidationFailed'
      ? 'ValidationFailed'
      : (stage.workflow ?? 'main') === 'fallback'
        ? 'FallbackFailed'
        : 'StageFailed';
  return {
    phase: 'Failed',
    condition: 'Failed',
    reason,
    message: `stage ${stage.name} failed: ${stage.message ?? stage.reason ?? ''}`,
  };
}

/** A stage of the active workflow failed with failurePolicy abort (the default). */
export const abortedStage: Policy = (run) => {
  if (run.activeWorkflow === 'emergency') return undefined;
  const stage = abortingStage(run);
  return stage ? stageEnding(stage) : undefined;
};
