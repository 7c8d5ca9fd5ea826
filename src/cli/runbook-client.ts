/** Reading and changing one AgentRunbook, for the CLI's commands on a named runbook. */
import { DECISION_KIND, GROUP, PLURAL, STORAGE_VERSION } from '../api/group.js';
import { isStatus, type KubeHttp } from '../kube/http.js';
import type { AgentRunbookJson } from '../kube/types.js';
import { connect, type ClusterFlags } from './cluster-flags.js';

/** Phases a run does not leave without a spec change or a rerun. */
export const FINISHED_PHASES: ReadonlySet<string> = new Set([
  'Succeeded',
  'Failed',
  'TimedOut',
  'BudgetExceeded',
  'Cancelled',
]);

export const runbooksPath = (namespace: string) =>
  `/apis/${GROUP}/${STORAGE_VERSION}/namespaces/${namespace}/${PLURAL}`;

export const decisionsPath = (namespace: string) =>
  `/apis/${GROUP}/${STORAGE_VERSION}/namespaces/${namespace}/${DECISION_KIND.plural}`;

export interface RunbookClient {
  http: KubeHttp;
  namespace: string;
  name: string;
  path: string;
  get(): Promise<AgentRunbookJson>;
  /** A JSON merge patch of the runbook. */
  patch(body: unknown): Promise<AgentRunbookJson>;
}

/** Runs `work` with a client for runbook `name`, closing the connection after. */
export async function withRunbook<T>(
  name: string,
  flags: ClusterFlags,
  work: (client: RunbookClient) => Promise<T>,
): Promise<T> {
  const { http, namespace } = await connect(flags);
  const path = `${runbooksPath(namespace)}/${name}`;
  const notFound = (error: unknown) => {
    if (isStatus(error, 404)) throw new Error(`agentrunbook ${name} not found in namespace ${namespace}`);
    throw error;
  };
  const client: RunbookClient = {
    http,
    namespace,
    name,
    path,
    get: () => http.request<AgentRunbookJson>({ method: 'GET', path }).catch(notFound),
    patch: (body) =>
      http
        .request<AgentRunbookJson>({
          method: 'PATCH',
          path,
          contentType: 'application/merge-patch+json',
          body,
        })
        .catch(notFound),
  };
  try {
    return await work(client);
  } finally {
    http.close();
  }
}
