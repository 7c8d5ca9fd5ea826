/**
 * Writes stored results: a cached stage's result as a CachedResult in its runbook's namespace
 * (created whole, in one request, so no reader ever sees half of one), and the larger outputs of
 * a stored result copied into a ConfigMap of the run that reuses it, so that run keeps them
 * however soon the stored result goes.
 */
import { CACHE_KIND, GROUP, STORAGE_VERSION } from '../api/group.js';
import {
  LABEL_AGENT,
  LABEL_CACHE_KEY,
  LABEL_MANAGED_BY,
  LABEL_RUNBOOK,
  LABEL_STAGE,
  MANAGED_BY,
} from '../api/labels.js';
import { setOwn } from '../api/json.js';
import { labelValue } from '../engine/model/naming.js';
import type { CacheStore, OutputStore } from '../engine/model/types.js';
import { createUnlessExists, isStatus, type KubeHttp } from '../kube/http.js';
import type { CachedResultJson, CachedRunbook } from '../kube/types.js';

/** Where a namespace's CachedResults are (the janitor and `agentrunbook cache` use it too). */
export const cachedResultsPath = (namespace: string) =>
  `/apis/${GROUP}/${STORAGE_VERSION}/namespaces/${namespace}/${CACHE_KIND.plural}`;

/** The label value of a cache key: its first 63 hex digits. */
export const cacheKeyLabel = (key: string) => key.replace(/^sha256:/, '').slice(0, 63);

export function cachedResultObject(runbook: CachedRunbook, store: CacheStore): CachedResultJson {
  return {
    apiVersion: `${GROUP}/${STORAGE_VERSION}`,
    kind: CACHE_KIND.kind,
    metadata: {
      name: store.name,
      namespace: runbook.metadata.namespace,
      // No owner: a stored result outlives the runbook that produced it.
      labels: {
        [LABEL_MANAGED_BY]: MANAGED_BY,
        [LABEL_RUNBOOK]: labelValue(runbook.metadata.name),
        [LABEL_STAGE]: labelValue(store.stage),
        [LABEL_AGENT]: labelValue(store.spec.agent),
        [LABEL_CACHE_KEY]: cacheKeyLabel(store.spec.key),
      },
    },
    spec: store.spec,
  };
}

/**
 * Creates the CachedResult. One that exists already is the same: a restart folded the same
 * attempt again, and its name is the attempt's.
 */
export async function storeResult(http: KubeHttp, runbook: CachedRunbook, store: CacheStore): Promise<void> {
  await createUnlessExists(
    http,
    cachedResultsPath(runbook.metadata.namespace),
    cachedResultObject(runbook, store),
  );
}

/** A stored result that cannot give what a run reuses from it. */
export class ResultGone extends Error {}

/**
 * The outputs a reusing run copies, read from the stored result. One that is gone (expired,
 * evicted, cleared) since the engine chose it fails the reconcile before the status says anything;
 * the cache no longer offers it next time, so the stage runs. One that lacks what it promises is
 * deleted, for the same end.
 */
export async function copiedOutputs(
  http: KubeHttp,
  namespace: string,
  store: OutputStore,
): Promise<OutputStore> {
  const name = store.copyFrom ?? '';
  let result: CachedResultJson;
  try {
    result = await http.request<CachedResultJson>({
      method: 'GET',
      path: `${cachedResultsPath(namespace)}/${name}`,
    });
  } catch (error) {
    if (isStatus(error, 404)) throw new ResultGone(`CachedResult ${name} is gone: the stage runs instead`);
    throw error;
  }
  const data: Record<string, string> = {};
  for (const ref of Object.values(result.spec.outputRefs ?? {})) {
    const json = result.spec.data?.[ref.key];
    if (typeof json !== 'string') {
      await http
        .request({
          method: 'DELETE',
          path: `${cachedResultsPath(namespace)}/${name}`,
          body: deleteIf(result),
        })
        .catch(() => undefined);
      throw new ResultGone(
        `CachedResult ${name} lacks output ${ref.key}; it is deleted and the stage runs instead`,
      );
    }
    setOwn(data, ref.key, json);
  }
  const copy = { ...store, data };
  delete copy.copyFrom;
  return copy;
}

/** DeleteOptions that delete only this very object, not one made since under its name. */
export const deleteIf = (result: { metadata: { uid?: string } }) => ({
  kind: 'DeleteOptions',
  apiVersion: 'v1',
  ...(result.metadata.uid ? { preconditions: { uid: result.metadata.uid } } : {}),
});
