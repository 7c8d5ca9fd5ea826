import { setOwn } from '../../api/json.js';
import type { Grant } from '../stage/budget.js';
import type { PlanContext } from '../stage/job-plan.js';
import { StoredOutput } from '../spec/stored-outputs.js';
import { timestamp } from '../model/conditions.js';
import { skippedByCondition, type Run } from './run.js';

/**
 * The outputs later stages may read, by stage name (and the pipeline stage a step answers to):
 * those of succeeded stages (a stored one as a StoredOutput), and the skippedOutputs of stages
 * their `when` skipped.
 */
export function readableOutputs(run: Run): Record<string, Record<string, unknown>> {
  const outputs: Record<string, Record<string, unknown>> = {};
  for (const stage of run.stages.values()) {
    const spec = run.specStages.get(stage.name);
    let all: Record<string, unknown>;
    if (stage.phase === 'Succeeded') {
      all = { ...stage.outputs };
      for (const [name, ref] of Object.entries(stage.outputRefs ?? {}))
        setOwn(all, name, new StoredOutput(stage.name, name, ref));
    } else if (skippedByCondition(stage)) {
      all = { ...(spec?.skippedOutputs ?? {}) };
    } else continue;
    setOwn(outputs, stage.name, all);
    if (spec?.alias) setOwn(outputs, spec.alias, all);
  }
  return outputs;
}

/** What a stage's Job is planned from: the runbook, its grant, and the outputs it may read. */
export function planContext(run: Run, grant: Grant, runRemainingMs: number | undefined): PlanContext {
  const { runbook, catalog } = run.input;
  const outputs = readableOutputs(run);
  return {
    runbook,
    execution: run.execution,
    catalog,
    grant,
    colocated: run.colocated,
    ...(runRemainingMs === undefined ? {} : { runRemainingMs }),
    scope: {
      context: runbook.spec.context ?? {},
      outputs,
      timestamp: run.status.startTime ?? timestamp(run.now),
      runbook: {
        name: runbook.metadata.name,
        namespace: runbook.metadata.namespace,
        version: runbook.spec.version,
      },
    },
  };
}
