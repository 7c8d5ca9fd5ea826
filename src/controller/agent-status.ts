/**
 * Keeps each Agent's and ClusterAgent's status (engine/stage/agent-status.ts decides it): on a change of
 * the agent, of a runbook that names it, and every RESYNC_MS for its circuit breaker, which
 * changes with the Jobs of every runbook and with time. Writes only when the status differs.
 */
import { isDeepStrictEqual } from 'node:util';
import type { AgentCatalog } from '../api/catalog.js';
import { AGENT_KINDS, GROUP, STORAGE_VERSION } from '../api/group.js';
import type { AgentStatusV2 } from '../api/v2/agent.js';
import { agentStatus } from '../engine/stage/agent-status.js';
import { breakerConfig, breakerState } from '../engine/stage/circuit-breaker.js';
import { isStatus, type KubeHttp } from '../kube/http.js';
import type { SharedInformer } from '../kube/informer.js';
import type { CachedAgent, CachedRunbook, ObjectMeta } from '../kube/types.js';
import { labelValue } from '../engine/model/naming.js';
import { LABEL_EGRESS_OF, type EgressPolicies } from './network-policy.js';
import { WorkQueue } from '../kube/work-queue.js';
import type { Logger } from '../observability/logger.js';
import { AGENTS_BY_NAMESPACE } from './agent-directory.js';
import type { JobCache } from './job-cache.js';

/** How often every agent's breaker is looked at again. */
const RESYNC_MS = 30_000;
const RUNBOOKS_BY_AGENT = 'agent';

/** The agents a runbook's stages name, as namespace/agent and as the bare agent name. */
function namedAgents(runbook: CachedRunbook): string[] {
  const spec = runbook.status?.template?.spec as CachedRunbook['spec'] | undefined;
  const pipeline = (spec ?? runbook.spec).agents.pipeline ?? [];
  const names = new Set(pipeline.map((stage) => stage.agent ?? stage.name));
  const namespace = runbook.metadata.namespace;
  return [...names].flatMap((name) => [`${namespace}/${name}`, name]);
}

/** Work-queue keys: namespace/name for an Agent, name alone for a ClusterAgent. */
const keyOf = (agent: CachedAgent) =>
  agent.metadata.namespace ? `${agent.metadata.namespace}/${agent.metadata.name}` : agent.metadata.name;

export class AgentStatusWriter {
  private readonly queue = new WorkQueue();
  private timer: NodeJS.Timeout | undefined;
  private worker: Promise<void> | undefined;

  constructor(
    private readonly deps: {
      http: KubeHttp;
      agents: SharedInformer<CachedAgent>;
      clusterAgents: SharedInformer<CachedAgent>;
      runbooks: SharedInformer<CachedRunbook>;
      cache: JobCache;
      catalog: () => AgentCatalog;
      egressPolicies: EgressPolicies;
      /** The namespaces the operator watches, if it does not watch all. */
      namespaces?: readonly string[] | undefined;
      log: Logger;
    },
  ) {
    deps.runbooks.addIndex(RUNBOOKS_BY_AGENT, namedAgents);
    const enqueue = (agent: CachedAgent) => {
      this.queue.add(keyOf(agent));
    };
    for (const informer of [deps.agents, deps.clusterAgents]) {
      informer.on({
        add: enqueue,
        update: (agent, old) => {
          if (agent.metadata.generation !== old.metadata.generation) enqueue(agent);
        },
      });
    }
    const enqueueNamed = (runbook: CachedRunbook) => {
      for (const key of namedAgents(runbook)) {
        if (key.includes('/') ? deps.agents.get(key) : deps.clusterAgents.get(key)) this.queue.add(key);
      }
    };
    deps.runbooks.on({
      add: enqueueNamed,
      update: (runbook, old) => {
        if (runbook.metadata.generation === old.metadata.generation) return;
        enqueueNamed(runbook);
        enqueueNamed(old);
      },
      delete: enqueueNamed,
    });
  }

  start(): void {
    this.timer = setInterval(() => {
      for (const agent of [...this.deps.agents.values(), ...this.deps.clusterAgents.values()]) {
        this.queue.add(keyOf(agent));
      }
    }, RESYNC_MS);
    this.timer.unref();
    for (const agent of [...this.deps.agents.values(), ...this.deps.clusterAgents.values()]) {
      this.queue.add(keyOf(agent));
    }
    this.worker = this.work();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.queue.shutDown();
    await this.worker;
  }

  private async work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        await this.sync(key);
        this.queue.forget(key);
      } catch (error) {
        this.deps.log.debug('agent status write failed; retrying', {
          agent: key,
          error: (error as Error).message,
        });
        this.queue.addRateLimited(key);
      } finally {
        this.queue.done(key);
      }
    }
  }

  /** The runbooks whose stages would run this agent. */
  private usedBy(agent: CachedAgent): string[] {
    const { namespace, name } = agent.metadata;
    const named = this.deps.runbooks.byIndex(RUNBOOKS_BY_AGENT, namespace ? `${namespace}/${name}` : name);
    // A ClusterAgent serves only the namespaces without an Agent of its name.
    const shadowed = (runbookNamespace: string) =>
      this.deps.agents
        .byIndex(AGENTS_BY_NAMESPACE, runbookNamespace)
        .some((own) => own.metadata.name === name);
    return named
      .filter((runbook) => namespace || !shadowed(runbook.metadata.namespace))
      .map((runbook) => `${runbook.metadata.namespace}/${runbook.metadata.name}`);
  }

  private async sync(key: string): Promise<void> {
    const agent = key.includes('/') ? this.deps.agents.get(key) : this.deps.clusterAgents.get(key);
    if (!agent) return;
    const name = agent.metadata.name;
    const file = this.deps.catalog();
    const catalog = { ...file, agents: [{ ...agent.spec, name, key }] };
    const status = agentStatus({
      spec: agent.spec,
      generation: agent.metadata.generation ?? 1,
      status: agent.status,
      usedBy: this.usedBy(agent),
      breaker: breakerState(
        this.deps.cache.agentHistory.get(key) ?? { finished: [], running: 0 },
        breakerConfig(catalog, key),
        Date.now(),
      ),
      now: new Date(),
    });
    if (!agent.spec.egress) await this.removeEgressPolicies(agent);
    if (isDeepStrictEqual(status, agent.status)) return;
    await this.write(agent, status);
  }

  /** An agent without egress keeps no NetworkPolicy: those made from its egress before go. */
  private async removeEgressPolicies(agent: CachedAgent): Promise<void> {
    const { namespace, name, uid } = agent.metadata;
    // An Agent's policies are in its namespace; a ClusterAgent's, in every namespace watched.
    const scopes = namespace ? [namespace] : (this.deps.namespaces ?? [undefined]);
    const lists = await Promise.all(
      scopes.map((scope) =>
        this.deps.http.request<{ items: { metadata: ObjectMeta }[] }>({
          method: 'GET',
          path: `/apis/networking.k8s.io/v1${scope ? `/namespaces/${scope}` : ''}/networkpolicies`,
          query: { labelSelector: `${LABEL_EGRESS_OF}=${labelValue(name)}` },
        }),
      ),
    );
    const owned = lists
      .flatMap((list) => list.items)
      .filter((policy) => policy.metadata.ownerReferences?.some((owner) => owner.uid === uid));
    for (const policy of owned) {
      const policyNamespace = policy.metadata.namespace ?? '';
      const policyName = policy.metadata.name ?? '';
      try {
        await this.deps.http.request({
          method: 'DELETE',
          path: `/apis/networking.k8s.io/v1/namespaces/${policyNamespace}/networkpolicies/${policyName}`,
        });
      } catch (error) {
        if (!isStatus(error, 404)) throw error;
      }
      this.deps.egressPolicies.forget(policyNamespace, policyName);
    }
  }

  private async write(agent: CachedAgent, status: AgentStatusV2): Promise<void> {
    const { namespace, name } = agent.metadata;
    const kind = namespace ? AGENT_KINDS.namespaced : AGENT_KINDS.cluster;
    const where = namespace ? `/namespaces/${namespace}` : '';
    try {
      await this.deps.http.request({
        method: 'PATCH',
        path: `/apis/${GROUP}/${STORAGE_VERSION}${where}/${kind.plural}/${name}/status`,
        contentType: 'application/merge-patch+json',
        body: { status },
      });
    } catch (error) {
      // Deleted since the cache saw it: nothing to write.
      if (!isStatus(error, 404)) throw error;
    }
  }
}
