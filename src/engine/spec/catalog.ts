import semver from 'semver';
import type { AgentCatalog, CatalogEntry } from '../../api/catalog.js';
import type { EgressSpec } from '../../api/egress.js';

/**
 * The first entry for the agent whose version range admits the requested version. The catalog is
 * the namespace's: its Agents, then the ClusterAgents, then the operator's file (agent-directory.ts).
 */
export function resolveAgent(
  catalog: AgentCatalog,
  name: string,
  version: string | undefined,
): ResolvedEntry | undefined {
  return catalog.agents.find(
    (entry) =>
      entry.name === name &&
      (version === undefined || entry.versions === undefined || semver.satisfies(version, entry.versions)),
  );
}

export function describeCatalogMiss(
  catalog: AgentCatalog,
  name: string,
  version: string | undefined,
): string {
  const sameName = catalog.agents.filter((entry) => entry.name === name);
  if (sameName.length === 0)
    return `no Agent in this namespace, ClusterAgent or entry of the operator's catalog is named ${name}`;
  const ranges = sameName.map((entry) => entry.versions ?? '*').join(', ');
  return `agent ${name} serves versions ${ranges}, none of which admits ${version ?? 'any version'}`;
}

/**
 * An entry as the engine sees it: a namespaced Agent's carries the key its circuit breaker counts
 * under (namespace/name), so one team's failing agent never holds another team's of the same name.
 * Catalog entries and ClusterAgents, shared by every namespace, count under their name.
 */
export type ResolvedEntry = CatalogEntry & {
  key?: string;
  /** An Agent's egress, and the object that owns the NetworkPolicy made from it. */
  egress?: EgressSpec;
  owner?: AgentOwner;
};

/** The Agent or ClusterAgent an entry came from. */
export interface AgentOwner {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
}

export const agentKey = (entry: ResolvedEntry): string => entry.key ?? entry.name;

/** The breaker key of the agent a stage named `name` runs. */
export function breakerKeyOf(catalog: AgentCatalog, name: string): string {
  const entry: ResolvedEntry | undefined = catalog.agents.find((candidate) => candidate.name === name);
  return entry ? agentKey(entry) : name;
}
