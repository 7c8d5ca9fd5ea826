/** Names of the AgentRunbook API, shared by the CRD generator, the clients and the tests. */
export const GROUP = 'i2s.studio';
export const KIND = 'AgentRunbook';
export const LIST_KIND = 'AgentRunbookList';
export const PLURAL = 'agentrunbooks';
export const SINGULAR = 'agentrunbook';
export const SHORT_NAMES = ['arb'];
export const CATEGORIES = ['i2s'];
export const STORAGE_VERSION = 'v2';
export const CRD_NAME = `${PLURAL}.${GROUP}`;

/** The template kinds: namespaced, and cluster-wide (the library the chart installs). */
export const TEMPLATE_KINDS = {
  namespaced: { kind: 'AgentRunbookTemplate', plural: 'agentrunbooktemplates', shortNames: ['arbt'] },
  cluster: {
    kind: 'ClusterAgentRunbookTemplate',
    plural: 'clusteragentrunbooktemplates',
    shortNames: ['carbt'],
  },
} as const;

/** The agent kinds: a team's, in its namespace, and the platform team's, for every namespace. */
export const AGENT_KINDS = {
  namespaced: { kind: 'Agent', plural: 'agents', shortNames: ['agt'] },
  cluster: { kind: 'ClusterAgent', plural: 'clusteragents', shortNames: ['cagt'] },
} as const;

export type KindScope = 'namespaced' | 'cluster';

export const TEMPLATE_KIND_NAMES = [TEMPLATE_KINDS.namespaced.kind, TEMPLATE_KINDS.cluster.kind] as const;

/** The Service in front of the operator's webhook server (conversion and validation). */
export const WEBHOOK_SERVICE = { namespace: 'agentrunbook-system', name: 'agentrunbook-webhook' };

/** How the API server reaches one of the webhook's paths through that Service. */
export function webhookServiceReference(
  path: string,
  namespace = WEBHOOK_SERVICE.namespace,
  name = WEBHOOK_SERVICE.name,
) {
  return { service: { namespace, name, path, port: 443 } };
}

/** The verb on agentrunbooks that lets a user approve or reject a runbook's quality gates. */
export const APPROVE_VERB = 'approve';
/** The ClusterRole that grants it, with creating GateDecisions (and nothing that changes a runbook). */
export const APPROVER_ROLE = 'agentrunbook-approver';

/** One user's decision on one gate. */
export const DECISION_KIND = { kind: 'GateDecision', plural: 'gatedecisions', shortNames: ['gd'] } as const;

/** Gates added to matching runbooks: a namespace's, and the cluster's. */
export const GATE_POLICY_KINDS = {
  namespaced: { kind: 'GatePolicy', plural: 'gatepolicies', shortNames: ['gp'] },
  cluster: { kind: 'ClusterGatePolicy', plural: 'clustergatepolicies', shortNames: ['cgp'] },
} as const;

/** A stage result kept for reuse (stage result caching), in the namespace that produced it. */
export const CACHE_KIND = { kind: 'CachedResult', plural: 'cachedresults', shortNames: ['cres'] } as const;
