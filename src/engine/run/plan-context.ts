import { setOwn } from '../../api/json.js';
import type { Grant } from '../stage/budget.js';
import type { PlanContext } from '../stage/job-plan.js';
import { StoredOutput } from '../spec/stored-outputs.js';
import { timestamp } from '../model/conditions.js';
import type { Run } from './run.js';

/** What a stage's Job is planned from: the runbook, its grant, and the outputs of succeeded stages. */
export function planContext(run: Run, grant: Grant, runRemainingMs: number | undefined): PlanContext {
  const { runbook, catalog } = run.input;
  const outputs: Record<string, Record<string, unknown>> = {};
  for (const stage of run.stages.values()) {
    if (stage.phase !== 'Succeeded') continue;
    const all = { ...stage.outputs };
    for (const [name, ref] of Object.entries(stage.outputRefs ?? {}))
      setOwn(all, name, new StoredOutput(stage.name, name, ref));
    setOwn(outputs, stage.name, all);
    const alias = run.specStages.get(stage.name)?.alias;
    if (alias) setOwn(outputs, alias, all);
  }
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
