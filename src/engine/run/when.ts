/**
 * Stages that do not run: a stage whose `when` is false is skipped (ConditionNotMet), one whose
 * `when` cannot be evaluated fails (ConditionFailed), and a stage that reads an output of a
 * dependency `when` skipped, with no skippedOutputs default for it, is skipped too
 * (DependencySkipped). Each is decided once the stage's dependencies have finished.
 */
import { referencedOutputs } from '../spec/substitution.js';
import { evaluateWhen } from '../spec/when.js';
import type { RunStage } from '../spec/workflow-stages.js';
import { StoredOutput } from '../spec/stored-outputs.js';
import { readableOutputs } from './plan-context.js';
import { dependenciesMet } from './schedule.js';
import { skippedByCondition, type Run } from './run.js';

/** The first output the stage reads from a dependency `when` skipped that gives it no value. */
function missingSkippedOutput(run: Run, spec: RunStage): string | undefined {
  for (const { stage, output } of referencedOutputs(spec.config?.inputs ?? {})) {
    const name = run.specStages.has(stage)
      ? stage
      : [...run.specStages.values()].find(
          (other) => other.alias === stage && other.workflow === spec.workflow,
        )?.name;
    const status = name === undefined ? undefined : run.stages.get(name);
    if (!status || !skippedByCondition(status) || output === undefined) continue;
    const defaults = run.specStages.get(status.name)?.skippedOutputs ?? {};
    if (!Object.hasOwn(defaults, output)) {
      return `reads ${stage}.outputs.${output}, which has no value: ${stage} was skipped (${status.message ?? 'its when is false'}) and gives no skippedOutputs.${output}`;
    }
  }
  return undefined;
}

/** Outputs as a condition sees them: those kept outside the status are absent. */
function inlineOutputs(run: Run): Record<string, Record<string, unknown>> {
  return Object.fromEntries(
    Object.entries(readableOutputs(run)).map(([stage, outputs]) => [
      stage,
      Object.fromEntries(Object.entries(outputs).filter(([, value]) => !(value instanceof StoredOutput))),
    ]),
  );
}

/** Skips or fails the ready stages of the active workflow that must not run; returns whether any changed. */
export function skipByCondition(run: Run): boolean {
  let changed = false;
  let outputs: Record<string, Record<string, unknown>> | undefined;
  for (const [name, stage] of run.stages) {
    const spec = run.specStages.get(name);
    if (!spec || spec.workflow !== run.activeWorkflow || stage.phase !== 'Pending' || stage.attempt) continue;
    if (!dependenciesMet(run, name, stage)) continue;
    const missing = missingSkippedOutput(run, spec);
    if (missing) {
      run.finishStage(stage, 'Skipped', 'DependencySkipped', missing);
      run.event('Normal', 'StageSkipped', `stage ${name} skipped: it ${missing}`);
      changed = true;
      continue;
    }
    if (spec.when === undefined) continue;
    outputs ??= inlineOutputs(run);
    const outcome = evaluateWhen(run.spec, spec, outputs);
    if ('skip' in outcome) {
      run.finishStage(stage, 'Skipped', 'ConditionNotMet', outcome.skip);
      run.event('Normal', 'StageSkipped', `stage ${name} skipped: ${outcome.skip}`);
      changed = true;
    } else if ('problem' in outcome) {
      stage.lastError = 'VALIDATION_ERROR';
      run.finishStage(stage, 'Failed', 'ConditionFailed', outcome.problem);
      run.event('Warning', 'StageFailed', `stage ${name} failed (ConditionFailed): ${outcome.problem}`);
      changed = true;
    }
  }
  return changed;
}
