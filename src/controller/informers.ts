/**
 * The informers of the controller: runbooks, the Jobs and Pods the operator manages (by label),
 * templates, agents and gate policies (namespaced in the watched namespace, cluster-scoped
 * everywhere), gate decisions, and stored results (without their larger outputs).
 */
import {
  AGENT_KINDS,
  CACHE_KIND,
  DECISION_KIND,
  GATE_POLICY_KINDS,
  GROUP,
  PLURAL,
  STORAGE_VERSION,
  TEMPLATE_KINDS,
} from '../api/group.js';
import { LABEL_MANAGED_BY, MANAGED_BY } from '../api/labels.js';
import type { KubeHttp } from '../kube/http.js';
import { Informer, type InformerOptions, type KubeObject } from '../kube/informer.js';
import { kubeSource } from '../kube/source.js';
import { withoutData } from './result-cache.js';
import type { RequiredMeta } from '../kube/informer.js';
import type {
  CachedAgent,
  CachedDecision,
  CachedResultEntry,
  CachedGatePolicy,
  CachedJob,
  CachedPod,
  CachedRunbook,
  CachedTemplate,
} from '../kube/types.js';

export interface ControllerInformers {
  runbooks: Informer<CachedRunbook>;
  jobs: Informer<CachedJob>;
  pods: Informer<CachedPod>;
  templates: Informer<CachedTemplate>;
  clusterTemplates: Informer<CachedTemplate>;
  agents: Informer<CachedAgent>;
  clusterAgents: Informer<CachedAgent>;
  decisions: Informer<CachedDecision>;
  gatePolicies: Informer<CachedGatePolicy>;
  clusterGatePolicies: Informer<CachedGatePolicy>;
  cachedResults: Informer<CachedResultEntry>;
}

/** What the API server sets on every object it stores, as the cached types say. */
const STORED: RequiredMeta[] = ['name', 'uid', 'resourceVersion'];
const NAMESPACED: RequiredMeta[] = [...STORED, 'namespace'];

export function controllerInformers(
  http: KubeHttp,
  namespace: string | undefined,
  options: InformerOptions,
): ControllerInformers {
  const managed = `${LABEL_MANAGED_BY}=${MANAGED_BY}`;
  const scope = namespace ? { namespace } : {};
  /** An informer of one of our own kinds: in the watched namespace, or cluster-scoped. */
  const ownKind = <T extends KubeObject>(
    plural: string,
    clusterScoped: boolean,
    requires = NAMESPACED,
    keep?: (object: T) => T,
  ) =>
    new Informer<T>(
      plural,
      kubeSource(
        http,
        { prefix: `/apis/${GROUP}/${STORAGE_VERSION}`, plural, ...(clusterScoped ? {} : scope) },
        keep,
      ),
      { ...options, requires },
    );
  return {
    runbooks: ownKind<CachedRunbook>(PLURAL, false, [...NAMESPACED, 'generation']),
    jobs: new Informer(
      'jobs',
      kubeSource(http, { prefix: '/apis/batch/v1', plural: 'jobs', labelSelector: managed, ...scope }),
      { ...options, requires: NAMESPACED },
    ),
    pods: new Informer(
      'pods',
      kubeSource(http, { prefix: '/api/v1', plural: 'pods', labelSelector: managed, ...scope }),
      { ...options, requires: NAMESPACED },
    ),
    templates: ownKind<CachedTemplate>(TEMPLATE_KINDS.namespaced.plural, false),
    clusterTemplates: ownKind<CachedTemplate>(TEMPLATE_KINDS.cluster.plural, true, STORED),
    agents: ownKind<CachedAgent>(AGENT_KINDS.namespaced.plural, false),
    clusterAgents: ownKind<CachedAgent>(AGENT_KINDS.cluster.plural, true, STORED),
    decisions: ownKind<CachedDecision>(DECISION_KIND.plural, false),
    gatePolicies: ownKind<CachedGatePolicy>(GATE_POLICY_KINDS.namespaced.plural, false),
    clusterGatePolicies: ownKind<CachedGatePolicy>(GATE_POLICY_KINDS.cluster.plural, true, STORED),
    cachedResults: ownKind<CachedResultEntry>(CACHE_KIND.plural, false, NAMESPACED, withoutData),
  };
}
