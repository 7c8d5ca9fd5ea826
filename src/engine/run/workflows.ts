/**
 * Workflow switches: when the fallback workflow takes over from the main one, when an emergency
 * stops everything and runs its own steps, when the validation stages follow, and how a run (or
 * a workflow of it) stops.
 */
import type { StageReason } from '../../api/reasons.js';
import type { StageStatusV2 } from '../../api/v2/runbook.js';
import type { Notification } from '../model/types.js';
import { emergencyStages, emergencyTargets, fallbackStages, type Workflow } from '../spec/workflow-stages.js';
import { isTerminalStage, type Run } from './run.js';

const EVERY_WORKFLOW: Workflow[] = ['main', 'fallback', 'emergency', 'validation'];

/** Stops the running stages of the given workflows (their Jobs are deleted) and skips their other stages. */
export function stopWorkflows(
  run: Run,
  cause: string,
  workflows: Workflow[],
  stopped: StageReason = 'Aborted',
  skipped: StageReason = 'RunStopped',
): void {
  for (const stage of run.stages.values()) {
    if (!workflows.includes(stage.workflow ?? 'main')) continue;
    if (stage.phase === 'Running') {
      if (stage.job) run.stopJob(stage.job);
      if (stage.child) run.stopChild(stage.child);
      run.finishStage(stage, 'Failed', stopped, `stopped because ${cause}`);
    } else if (stage.phase === 'Retrying') {
      // It ran and failed: it keeps that outcome, and says why no retry follows.
      run.finishStage(
        stage,
        'Failed',
        (stage.reason as StageReason | undefined) ?? 'AgentFailed',
        `${stage.message ?? ''}; not retried because ${cause}`,
      );
    } else if (stage.phase === 'Pending') {
      run.finishStage(stage, 'Skipped', skipped, `not run because ${cause}`);
    }
  }
}

/** Ends the run: stops everything. */
export function stopAll(run: Run, cause: string): void {
  stopWorkflows(run, cause, EVERY_WORKFLOW);
}

/** The stage that ends the run: failed with failurePolicy abort (the default). */
export function abortingStage(run: Run): StageStatusV2 | undefined {
  return [...run.stages.values()].find(
    (stage) =>
      (stage.workflow ?? 'main') === run.activeWorkflow &&
      stage.phase === 'Failed' &&
      stage.reason !== 'Aborted' &&
      // An item's failure is its forEach stage's to judge (onItemFailure).
      run.specStages.get(stage.name)?.item === undefined &&
      (run.specStages.get(stage.name)?.config?.failurePolicy ?? 'abort') === 'abort',
  );
}

/**
 * Counts the failures of emergency trigger classes (in any workflow but the emergency one, over
 * the whole run, as fallback triggers are counted); at the threshold (1 by default) the
 * emergency stops everything at once, tells the notify targets, and runs the emergency steps.
 */
export function startEmergency(run: Run): Notification[] {
  const trigger = run.emergency;
  const emergency = run.spec.workflows?.emergency;
  if (run.activeWorkflow === 'emergency' || !emergency) return [];
  const triggers = (run.status.workflow?.emergencyTriggers ?? 0) + run.newEmergencyTriggers;
  if (triggers > 0)
    run.status.workflow = {
      active: run.activeWorkflow,
      ...run.status.workflow,
      emergencyTriggers: triggers,
    };
  const threshold = emergency.trigger.threshold ?? 1;
  if (!trigger || triggers < threshold) return [];
  const cause =
    threshold > 1
      ? `${triggers} failures of classes ${emergency.trigger.conditions.join(', ')}, the last ${trigger.errorClass} reported by stage ${trigger.stage}`
      : `${trigger.errorClass} reported by stage ${trigger.stage}`;
  stopWorkflows(run, cause, ['main', 'fallback', 'validation'], 'EmergencyStopped', 'EmergencyStopped');
  run.activate('emergency', emergencyStages(run.spec));
  run.status.workflow = { ...run.status.workflow, active: 'emergency', emergencyCause: cause };
  const { namespace, name } = run.input.runbook.metadata;
  return emergencyTargets(run.spec).map((target) => {
    const message = `emergency stop of runbook ${namespace}/${name}: ${cause}`;
    run.event('Warning', 'EmergencyNotification', `notifying ${target}: ${message}`);
    return { target, reason: 'EmergencyStop', message };
  });
}

/** Counts fallback triggers and lets the fallback workflow take over at the threshold. */
export function considerFallback(run: Run): void {
  const fallback = run.spec.workflows?.fallback;
  const triggers = (run.status.workflow?.fallbackTriggers ?? 0) + run.newFallbackTriggers;
  run.status.workflow = {
    ...run.status.workflow,
    active: run.activeWorkflow,
    fallbackTriggers: triggers,
  };
  if (!fallback || run.activeWorkflow !== 'main' || triggers < (fallback.trigger.threshold ?? 1)) return;
  const cause = `${triggers} failures of classes ${fallback.trigger.conditions.join(', ')}`;
  stopWorkflows(
    run,
    `the fallback workflow took over after ${cause}`,
    ['main'],
    'StoppedForFallback',
    'FallbackActive',
  );
  run.activate('fallback', fallbackStages(run.spec));
  run.event('Warning', 'FallbackActivated', `the fallback workflow takes over after ${cause}`);
}

/** Moves from a finished main (or fallback) workflow to the validation stages. */
export function advanceWorkflow(run: Run): boolean {
  const active = run.activeWorkflow;
  if (active !== 'main' && active !== 'fallback') return false;
  if (!run.stagesOf(active).every(isTerminalStage)) return false;
  if (run.stagesOf('validation').length === 0) return false;
  run.activate('validation');
  return true;
}
