/**
 * The agents a chart installs (values `agents`), kept in the cluster by the operator as the
 * template library is: a chart cannot create Agents or ClusterAgents in the same install as their
 * CRD and the webhook that admits them, so it hands them to the operator (--agent-library) and
 * the leader applies them, server-side, at start. Agents users added are left alone.
 */
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { AGENT_KINDS, GROUP, STORAGE_VERSION } from '../api/group.js';
import { isObject } from '../api/json.js';
import { validateAgent } from '../api/validator.js';
import type { KubeHttp } from '../kube/http.js';
import type { AgentJson } from '../kube/types.js';

const KINDS: string[] = [AGENT_KINDS.namespaced.kind, AGENT_KINDS.cluster.kind];

/**
 * The Agents and ClusterAgents of a YAML file (documents, or a List's items), each checked
 * against the schema; anything else, an Agent without a namespace or a refused field stops the
 * operator at start with the file, the object and the field.
 */
export function readAgentLibrary(path: string): AgentJson[] {
  const objects = parseAllDocuments(readFileSync(path, 'utf8'))
    .map((document) => document.toJS() as unknown)
    .flatMap((object): unknown[] =>
      isObject(object) && object.kind === 'List' && Array.isArray(object.items)
        ? (object.items as unknown[])
        : [object],
    )
    .filter((object) => object !== null);
  return objects.map((object) => {
    const agent = object as AgentJson;
    const name = isObject(object) && isObject(object.metadata) ? String(object.metadata.name) : '(unnamed)';
    if (!isObject(object) || !KINDS.includes(String(object.kind))) {
      throw new Error(`${path}: ${name}: the agent library holds only Agents and ClusterAgents`);
    }
    if (agent.kind === AGENT_KINDS.namespaced.kind && !agent.metadata.namespace) {
      throw new Error(`${path}: ${name}: an Agent needs metadata.namespace`);
    }
    const problems = validateAgent(object);
    if (problems.length) {
      throw new Error(`${path}: ${name}: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`);
    }
    return agent;
  });
}

/**
 * Applies each agent; resolves with the ones the API server refused (e.g. an Agent whose namespace
 * does not exist yet), each with why, so one bad entry never keeps the operator from leading.
 */
export async function applyAgentLibrary(
  http: KubeHttp,
  agents: readonly AgentJson[],
): Promise<{ agent: string; error: string }[]> {
  const base = `/apis/${GROUP}/${STORAGE_VERSION}`;
  const results = await Promise.allSettled(
    agents.map((agent) => {
      const name = agent.metadata.name ?? '';
      const path =
        agent.kind === AGENT_KINDS.cluster.kind
          ? `${base}/${AGENT_KINDS.cluster.plural}/${name}`
          : `${base}/namespaces/${agent.metadata.namespace ?? ''}/${AGENT_KINDS.namespaced.plural}/${name}`;
      return http.apply(path, { ...agent, apiVersion: `${GROUP}/${STORAGE_VERSION}` }, true);
    }),
  );
  return results.flatMap((result, index) => {
    if (result.status === 'fulfilled') return [];
    const { kind, metadata } = agents[index] ?? { metadata: {} };
    const where = metadata.namespace ? `${metadata.namespace}/` : '';
    return [
      {
        agent: `${kind ?? 'Agent'} ${where}${metadata.name ?? ''}`,
        error: (result.reason as Error).message,
      },
    ];
  });
}
