/**
 * Keeps the outputs the status cannot hold (engine/spec/stored-outputs.ts) in ConfigMaps owned by the
 * runbook: one per stage attempt, immutable, written before the status that refers to them. The
 * operator never reads them back; the kubelet mounts them into the stages that use them.
 */
import { LABEL_EXECUTION, LABEL_MANAGED_BY, LABEL_RUNBOOK, LABEL_STAGE, MANAGED_BY } from '../api/labels.js';
import { labelValue } from '../engine/model/naming.js';
import type { OutputStore } from '../engine/model/types.js';
import { createUnlessExists, isStatus, type KubeHttp } from '../kube/http.js';
import type { CachedRunbook } from '../kube/types.js';
import { ownedBy } from './job-builder.js';

const configMaps = (namespace: string) => `/api/v1/namespaces/${namespace}/configmaps`;

export function outputsConfigMap(runbook: CachedRunbook, store: OutputStore) {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: store.name,
      namespace: runbook.metadata.namespace,
      labels: {
        [LABEL_MANAGED_BY]: MANAGED_BY,
        [LABEL_RUNBOOK]: labelValue(runbook.metadata.name),
        [LABEL_STAGE]: labelValue(store.stage),
        [LABEL_EXECUTION]: store.execution,
      },
      ownerReferences: [ownedBy(runbook)],
    },
    // Outputs never change once reported; kubelets need not watch an immutable ConfigMap.
    immutable: true,
    data: store.data,
  };
}

/**
 * Creates the ConfigMap. One that exists already holds the same outputs: its name is the Job
 * attempt's, and a restart folds that attempt's report again to the same data.
 */
export async function storeOutputs(
  http: KubeHttp,
  runbook: CachedRunbook,
  store: OutputStore,
): Promise<void> {
  await createUnlessExists(http, configMaps(runbook.metadata.namespace), outputsConfigMap(runbook, store));
}

/**
 * Deletes the stored outputs of the runbook's other executions, which no status refers to any
 * more, but those in `keep` (a retry's kept stages refer to them).
 */
export async function pruneStoredOutputs(
  http: KubeHttp,
  runbook: CachedRunbook,
  prune: { keepExecution: string; keep: readonly string[] },
): Promise<void> {
  const path = configMaps(runbook.metadata.namespace);
  const selector = [
    `${LABEL_MANAGED_BY}=${MANAGED_BY}`,
    `${LABEL_RUNBOOK}=${labelValue(runbook.metadata.name)}`,
    `${LABEL_EXECUTION}!=${prune.keepExecution}`,
  ].join(',');
  if (prune.keep.length === 0) {
    await http.request({ method: 'DELETE', path, query: { labelSelector: selector } });
    return;
  }
  const kept = new Set(prune.keep);
  const listed = await http.request<{ items: { metadata: { name: string } }[] }>({
    method: 'GET',
    path,
    query: { labelSelector: selector },
  });
  for (const { metadata } of listed.items) {
    if (kept.has(metadata.name)) continue;
    await http.request({ method: 'DELETE', path: `${path}/${metadata.name}` }).catch((error: unknown) => {
      if (!isStatus(error, 404)) throw error;
    });
  }
}
