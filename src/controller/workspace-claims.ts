/**
 * The PersistentVolumeClaims the runbook's workspaces make for each run (engine/stage/workspaces.ts):
 * created before the first Job that mounts one, owned by the runbook (so they go with it), and
 * labelled with their run (a retry shares the claims of the run it retries), so the claims of runs whose Jobs spec.history removed go too.
 */
import { LABEL_EXECUTION, LABEL_MANAGED_BY, LABEL_RUNBOOK, MANAGED_BY } from '../api/labels.js';
import { labelValue, workspaceExecution } from '../engine/model/naming.js';
import type { JobPlan, PlannedWorkspace } from '../engine/model/types.js';
import { createUnlessExists, type KubeHttp } from '../kube/http.js';
import type { CachedRunbook } from '../kube/types.js';
import { ownedBy } from './job-builder.js';

const claims = (namespace: string) => `/api/v1/namespaces/${namespace}/persistentvolumeclaims`;

type MadeClaim = Required<NonNullable<PlannedWorkspace['claim']>>;

export function claimObject(runbook: CachedRunbook, execution: string, claim: MadeClaim) {
  const { metadata, spec } = claim.template;
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name: claim.name,
      namespace: runbook.metadata.namespace,
      labels: {
        ...metadata?.labels,
        [LABEL_MANAGED_BY]: MANAGED_BY,
        [LABEL_RUNBOOK]: labelValue(runbook.metadata.name),
        [LABEL_EXECUTION]: execution,
      },
      ...(metadata?.annotations ? { annotations: metadata.annotations } : {}),
      ownerReferences: [ownedBy(runbook)],
    },
    spec: {
      accessModes: spec.accessModes ?? ['ReadWriteOnce'],
      resources: { requests: { storage: spec.resources.requests.storage } },
      ...(spec.storageClassName ? { storageClassName: spec.storageClassName } : {}),
      ...(spec.volumeMode ? { volumeMode: spec.volumeMode } : {}),
    },
  };
}

/** Creates the claims the Job mounts that its run makes; one that exists already is the run's. */
export async function ensureClaims(http: KubeHttp, runbook: CachedRunbook, plan: JobPlan): Promise<void> {
  for (const workspace of plan.workspaces ?? []) {
    const claim = workspace.claim;
    if (!claim?.template) continue;
    await createUnlessExists(
      http,
      claims(runbook.metadata.namespace),
      claimObject(runbook, workspaceExecution(plan.execution), {
        name: claim.name,
        template: claim.template,
      }),
    );
  }
}

/** Deletes the runbook's claims of every run but these. */
export async function pruneClaims(
  http: KubeHttp,
  runbook: CachedRunbook,
  keepExecutions: readonly string[],
): Promise<void> {
  const selector = [
    `${LABEL_MANAGED_BY}=${MANAGED_BY}`,
    `${LABEL_RUNBOOK}=${labelValue(runbook.metadata.name)}`,
    `${LABEL_EXECUTION} notin (${keepExecutions.join(',')})`,
  ].join(',');
  await http.request({
    method: 'DELETE',
    path: claims(runbook.metadata.namespace),
    query: { labelSelector: selector },
  });
}
