/**
 * The notify targets of main and fallback workflow steps (emergency steps tell theirs when the
 * emergency starts): a step's targets are told when it first starts, and a terminate step's when
 * its workflow reaches it. Both are read from how the status changed in this reconcile, so a
 * target is told once: the status that records the change is written before the next reconcile.
 */
import type { StatusV2 } from '../../api/v2/runbook.js';
import type { Notification, RunbookObject } from '../model/types.js';
import { allStages, terminatingStep } from '../spec/workflow-stages.js';

const stagesOf = (status: StatusV2, workflow: string) =>
  (status.stages ?? []).filter((stage) => (stage.workflow ?? 'main') === workflow);

export function stepNotifications(runbook: RunbookObject, before: StatusV2, next: StatusV2): Notification[] {
  const { namespace, name } = runbook.metadata;
  const where = `runbook ${namespace}/${name}`;
  const earlier = new Map((before.stages ?? []).map((stage) => [stage.name, stage]));
  const started = new Set(
    (next.stages ?? [])
      .filter((stage) => (stage.attempt ?? 0) >= 1 && (earlier.get(stage.name)?.attempt ?? 0) === 0)
      .map((stage) => stage.name),
  );
  const notifications: Notification[] = allStages(runbook.spec)
    .filter((stage) => stage.workflow !== 'emergency' && started.has(stage.name))
    .flatMap((stage) =>
      (stage.notify ?? []).map((target) => ({
        target,
        reason: 'StepStarted' as const,
        message: `step ${stage.name} of the ${stage.workflow} workflow of ${where} started`,
      })),
    );
  for (const workflow of ['main', 'fallback'] as const) {
    const ending = terminatingStep(runbook.spec, workflow);
    if (!ending?.step.notify?.length) continue;
    const succeeded = (status: StatusV2) => {
      const stages = stagesOf(status, workflow);
      return stages.length > 0 && stages.every((stage) => stage.phase === 'Succeeded');
    };
    if (!succeeded(next) || succeeded(before)) continue;
    notifications.push(
      ...ending.step.notify.map((target) => ({
        target,
        reason: 'WorkflowTerminated' as const,
        message: `the ${workflow} workflow of ${where} reached its terminate step ${ending.step.name}`,
      })),
    );
  }
  return notifications;
}
