/**
 * Which agents a runbook's stages can name: the Agents of its namespace first, then the
 * ClusterAgents, then the operator's catalog file (kept for compatibility). Read from informers on
 * every reconcile, so a changed Agent applies to the next attempt without a restart; the merged
 * catalog of a namespace is rebuilt only after an Agent or ClusterAgent changed.
 */
import type { AgentCatalog } from '../api/catalog.js';
import { AGENT_KINDS, GROUP, STORAGE_VERSION } from '../api/group.js';
import type { ResolvedEntry } from '../engine/spec/catalog.js';
import type { SharedInformer } from '../kube/informer.js';
import type { CachedAgent } from '../kube/types.js';
import { compareText } from '../api/text.js';

export const AGENTS_BY_NAMESPACE = 'namespace';

/** An Agent's spec as a catalog entry named after the object. */
function entryOf(agent: CachedAgent): ResolvedEntry {
  const spec: Partial<CachedAgent['spec']> = { ...agent.spec };
  delete spec.description;
  const { name, namespace } = agent.metadata;
  // A namespaced Agent's breaker is its own; a ClusterAgent's is shared, as it is one agent.
  // It owns the NetworkPolicy made from its egress, which goes with it.
  const owner = {
    apiVersion: `${GROUP}/${STORAGE_VERSION}`,
    kind: namespace ? AGENT_KINDS.namespaced.kind : AGENT_KINDS.cluster.kind,
    name: name,
    uid: agent.metadata.uid,
  };
  return {
    ...(spec as CachedAgent['spec']),
    name: name,
    owner,
    ...(namespace ? { key: `${namespace}/${name}` } : {}),
  };
}

export class AgentDirectory {
  private readonly merged = new Map<string, AgentCatalog>();
  private clusterEntries: ResolvedEntry[] | undefined;

  constructor(
    private readonly namespaced: SharedInformer<CachedAgent>,
    private readonly cluster: SharedInformer<CachedAgent>,
    /** The operator's configuration, read once at start. */
    private readonly file: () => AgentCatalog,
  ) {
    namespaced.addIndex(AGENTS_BY_NAMESPACE, (agent) => [agent.metadata.namespace ?? '']);
    const forget = (agent: CachedAgent) => {
      this.merged.delete(agent.metadata.namespace ?? '');
    };
    namespaced.on({ add: forget, update: forget, delete: forget });
    const forgetAll = () => {
      this.merged.clear();
      this.clusterEntries = undefined;
    };
    cluster.on({ add: forgetAll, update: forgetAll, delete: forgetAll });
  }

  /** The catalog the engine resolves a runbook's agents in, for runbooks of `namespace`. */
  catalogFor(namespace: string): AgentCatalog {
    let catalog = this.merged.get(namespace);
    if (!catalog) {
      const file = this.file();
      this.clusterEntries ??= [...this.cluster.values()]
        .sort((a, b) => compareText(a.metadata.name, b.metadata.name))
        .map(entryOf);
      const own = this.namespaced
        .byIndex(AGENTS_BY_NAMESPACE, namespace)
        .sort((a, b) => compareText(a.metadata.name, b.metadata.name))
        .map(entryOf);
      catalog = { ...file, agents: [...own, ...this.clusterEntries, ...file.agents] };
      this.merged.set(namespace, catalog);
    }
    return catalog;
  }
}
