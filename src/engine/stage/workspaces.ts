/**
 * The workspaces of a run: what each stage mounts, which claims the run makes, and where the
 * stages that share a ReadWriteOnce claim must run. Such stages are kept on one node two ways:
 * Pods of the run that share one require each other by pod affinity (so stages that start
 * together meet, and the first lands anywhere), and once one was scheduled every later one
 * requires its node (the scheduler forgets finished Pods, so affinity alone would not hold a
 * later stage to the node where the claim's data is).
 */
import { sharedOnOneNode, workspaceMountPath, type WorkspaceV2 } from '../../api/v2/workspaces.js';
import type { SpecV2, StageV2, StatusV2 } from '../../api/v2/runbook.js';
import { claimName, colocationGroup, workspaceExecution } from '../model/naming.js';
import type { JobObservation, PlannedWorkspace, RunbookObject } from '../model/types.js';
import { compareText } from '../../api/text.js';

export const HOSTNAME_LABEL = 'kubernetes.io/hostname';

interface RunIds {
  runbook: RunbookObject;
  execution: string;
}

const declared = (spec: SpecV2, name: string): WorkspaceV2 | undefined =>
  spec.workspaces?.find((workspace) => workspace.name === name);

/** Workspaces that two or more stages of the run name and that must stay on one node. */
export function colocatedWorkspaces(spec: SpecV2, stages: readonly StageV2[]): Set<string> {
  const users = new Map<string, number>();
  for (const stage of stages)
    for (const binding of stage.workspaces ?? []) users.set(binding.name, (users.get(binding.name) ?? 0) + 1);
  return new Set(
    [...users]
      .filter(([name, count]) => {
        const workspace = declared(spec, name);
        return count > 1 && workspace !== undefined && !workspace.emptyDir && sharedOnOneNode(workspace);
      })
      .map(([name]) => name),
  );
}

/** What a stage mounts, each workspace with its source for this run. */
export function plannedWorkspaces(ids: RunIds, stage: StageV2): PlannedWorkspace[] {
  const { name, uid } = ids.runbook.metadata;
  return (stage.workspaces ?? []).flatMap((binding): PlannedWorkspace[] => {
    const workspace = declared(ids.runbook.spec, binding.name);
    if (!workspace) return [];
    const mount = {
      name: binding.name,
      mountPath: workspaceMountPath(binding),
      readOnly: binding.readOnly ?? false,
    };
    if (workspace.emptyDir) return [{ ...mount, emptyDir: workspace.emptyDir }];
    if (workspace.persistentVolumeClaim)
      return [{ ...mount, claim: { name: workspace.persistentVolumeClaim.claimName } }];
    if (!workspace.volumeClaimTemplate) return [];
    return [
      {
        ...mount,
        claim: {
          name: claimName(name, binding.name, workspaceExecution(ids.execution), uid),
          template: workspace.volumeClaimTemplate,
        },
      },
    ];
  });
}

/**
 * Where the stage must run to share its workspaces: the run's group for pod affinity, and the
 * node an earlier Pod of the run that shares one was scheduled to.
 */
export function colocationFor(
  ids: RunIds,
  stage: StageV2,
  colocated: ReadonlySet<string>,
  node: string | undefined,
): { group: string; node?: string } | undefined {
  if (!(stage.workspaces ?? []).some((binding) => colocated.has(binding.name))) return undefined;
  return {
    group: colocationGroup(ids.runbook.metadata.uid, workspaceExecution(ids.execution)),
    ...(node ? { node } : {}),
  };
}

/**
 * The node of the run's first scheduled Pod among the stages that share a colocated workspace
 * (a retry's, or the run's it retries: they share the workspaces).
 */
export function workspaceNode(
  execution: string,
  jobs: readonly JobObservation[],
  stagesByName: ReadonlyMap<string, StageV2>,
  colocated: ReadonlySet<string>,
): string | undefined {
  const sharing = jobs
    .filter((job) => job.node && workspaceExecution(job.execution) === workspaceExecution(execution))
    .filter((job) =>
      (stagesByName.get(job.stage)?.workspaces ?? []).some((binding) => colocated.has(binding.name)),
    )
    .sort((a, b) => compareText(a.startTime ?? '', b.startTime ?? '') || compareText(a.name, b.name));
  return sharing[0]?.node;
}

/** status.workspaces: the claim of each named workspace for this run, and the node colocated ones keep to. */
export function workspaceStatus(
  ids: RunIds,
  stages: readonly StageV2[],
  colocated: ReadonlySet<string>,
  node: string | undefined,
): StatusV2['workspaces'] {
  const named = new Set(stages.flatMap((stage) => (stage.workspaces ?? []).map((binding) => binding.name)));
  const entries = (ids.runbook.spec.workspaces ?? [])
    .filter((workspace) => named.has(workspace.name))
    .map((workspace) => {
      const claim = workspace.persistentVolumeClaim
        ? workspace.persistentVolumeClaim.claimName
        : workspace.volumeClaimTemplate
          ? claimName(
              ids.runbook.metadata.name,
              workspace.name,
              workspaceExecution(ids.execution),
              ids.runbook.metadata.uid,
            )
          : undefined;
      return {
        name: workspace.name,
        ...(claim ? { claim } : {}),
        ...(node && colocated.has(workspace.name) ? { node } : {}),
      };
    });
  return entries.length ? entries : undefined;
}

/**
 * After Jobs are deleted, the runs whose claims stay: the current one and those with Jobs left
 * (claims are labelled with the workspace execution, shared by a run and its retries).
 * Undefined when nothing was deleted, so claims are only looked at when a run's history goes.
 */
export function claimsToKeep(
  jobs: readonly JobObservation[],
  deleted: readonly { name: string }[],
  execution: string,
): { keepExecutions: string[] } | undefined {
  if (deleted.length === 0) return undefined;
  const gone = new Set(deleted.map((job) => job.name));
  const kept = new Set(
    [execution, ...jobs.filter((job) => !gone.has(job.name)).map((job) => job.execution)].map(
      workspaceExecution,
    ),
  );
  return { keepExecutions: [...kept].sort() };
}
