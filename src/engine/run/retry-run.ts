/**
 * Which run a runbook's reconcile works on, and what a retry keeps. A run is one execution: the
 * generation, the rerun annotation's hash, and for a retry (the i2s.studio/retry annotation naming
 * a run that ended without success) a hash of the run it retries. A retry keeps that run's
 * succeeded stages, with their outputs, outputs' ConfigMaps, usage and workspaces, and runs the
 * others again, as `argo retry` does. A retry annotation that names another run does nothing.
 */
import { cloneJson } from '../../api/json.js';
import { ANNOTATION_RERUN, ANNOTATION_RETRY } from '../../api/labels.js';
import type { StageStatusV2, StatusV2 } from '../../api/v2/runbook.js';
import { executionId, isRunOf, retryExecutionId } from '../model/naming.js';
import type { RunbookObject } from '../model/types.js';

/** The phases of a run that a retry may take up. */
export const RETRYABLE_PHASES: readonly string[] = ['Failed', 'TimedOut', 'BudgetExceeded'];

/** The execution a runbook's next reconcile works on: a cancel keeps the run it stops. */
export function currentExecution(runbook: RunbookObject): string {
  const { generation, annotations } = runbook.metadata;
  const current = runbook.status?.execution;
  if (runbook.spec.status === 'Cancelled' && current) return current;
  const base = executionId(generation, annotations?.[ANNOTATION_RERUN]);
  const retried = annotations?.[ANNOTATION_RETRY];
  if (!isRunOf(base, current)) return base;
  if (retried === current && RETRYABLE_PHASES.includes(runbook.status?.phase ?? ''))
    return retryExecutionId(base, retried);
  return current;
}

/**
 * The stages a new run starts with from the run it retries: its succeeded stages, outside the
 * fallback and emergency workflows (those run again if the run needs them again). A queued retry
 * holds them already.
 */
export function keptStages(runbook: RunbookObject, execution: string): Map<string, StageStatusV2> {
  const previous: StatusV2 | undefined = runbook.status;
  const retried = runbook.metadata.annotations?.[ANNOTATION_RETRY];
  const from =
    previous?.execution === execution ||
    (retried !== undefined && previous?.execution === retried && execution !== retried)
      ? previous
      : undefined;
  const kept = new Map<string, StageStatusV2>();
  for (const stage of from?.stages ?? [])
    if (stage.phase === 'Succeeded' && stage.workflow !== 'fallback' && stage.workflow !== 'emergency')
      kept.set(stage.name, cloneJson(stage));
  return kept;
}

/** The ConfigMaps of outputs the kept stages refer to: they outlive the run that made them. */
export function keptOutputStores(stages: Iterable<StageStatusV2>): string[] {
  const names = new Set<string>();
  for (const stage of stages)
    for (const ref of Object.values(stage.outputRefs ?? {})) names.add(ref.configMap);
  return [...names].sort();
}
