/**
 * Storage-version migration: while the CRD's status.storedVersions still lists an older version,
 * objects in etcd may be stored in it. Rewriting every AgentRunbook stores it as v2 (the API
 * server encodes writes in the storage version); then the old versions are dropped from
 * storedVersions. Safe to interrupt: the next start does it again.
 */
import { CRD_NAME, GROUP, PLURAL, STORAGE_VERSION } from '../api/group.js';
import type { Logger } from '../observability/logger.js';
import { isStatus, type KubeHttp } from '../kube/http.js';

interface CrdJson {
  metadata: { resourceVersion?: string };
  status?: { storedVersions?: string[] } & Record<string, unknown>;
}

interface RunbookRef {
  metadata: { name: string; namespace: string };
}

const CRD_PATH = `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${CRD_NAME}`;

/** Retries while the API server says it is busy or (re)initializing the resource's storage. */
async function patiently<T>(call: () => Promise<T>, deadlineMs = 60_000): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (let delay = 100; ; delay = Math.min(delay * 2, 2000)) {
    try {
      return await call();
    } catch (error) {
      if (!isStatus(error, 429, 500, 503, 504) || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/** Rewrites one runbook; says why not when it cannot (the API server refused it). */
async function rewrite(http: KubeHttp, ref: RunbookRef): Promise<string | undefined> {
  const path = `/apis/${GROUP}/${STORAGE_VERSION}/namespaces/${ref.metadata.namespace}/${PLURAL}/${ref.metadata.name}`;
  for (let attempt = 0; attempt < 5; attempt += 1) {
    try {
      const current = await patiently(() => http.request<Record<string, unknown>>({ method: 'GET', path }));
      await patiently(() => http.request({ method: 'PUT', path, body: current }));
      return undefined;
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      if (!isStatus(error, 409)) return (error as Error).message;
    }
  }
  return 'it kept changing while being rewritten';
}

/** Returns the versions it dropped from storedVersions (none when there was nothing to do). */
export async function migrateStorage(http: KubeHttp, log: Logger): Promise<string[]> {
  const crd = await http.request<CrdJson>({ method: 'GET', path: CRD_PATH });
  const stored = crd.status?.storedVersions ?? [];
  const old = stored.filter((version) => version !== STORAGE_VERSION);
  if (old.length === 0) return [];
  log.info('migrating stored AgentRunbooks', { from: old, to: STORAGE_VERSION });
  const list = await patiently(() =>
    http.request<{ items?: RunbookRef[] }>({
      method: 'GET',
      path: `/apis/${GROUP}/${STORAGE_VERSION}/${PLURAL}`,
    }),
  );
  const failures: string[] = [];
  for (const item of list.items ?? []) {
    const failure = await rewrite(http, item);
    if (failure) failures.push(`${item.metadata.namespace}/${item.metadata.name}: ${failure}`);
  }
  if (failures.length) {
    // storedVersions may only lose v1 once every object is stored as v2: try again at the next start.
    log.error('storage migration incomplete; storedVersions keeps the old versions', { failures });
    return [];
  }
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const fresh = await http.request<CrdJson>({ method: 'GET', path: CRD_PATH });
    try {
      await http.request({
        method: 'PUT',
        path: `${CRD_PATH}/status`,
        body: { ...fresh, status: { ...fresh.status, storedVersions: [STORAGE_VERSION] } },
      });
      log.info('storage migration done', { rewritten: list.items?.length ?? 0 });
      return old;
    } catch (error) {
      if (!isStatus(error, 409)) throw error;
    }
  }
  throw new Error('could not update the CRD’s storedVersions: it keeps changing');
}
