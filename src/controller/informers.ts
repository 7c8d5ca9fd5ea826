/**
 * The informers of the controller: runbooks, the Jobs and Pods the operator manages (by label,
 * trimmed to what the engine reads), templates, agents and gate policies (namespaced in the
 * watched namespaces, cluster-scoped everywhere), gate decisions, and stored results (without
 * their larger outputs).
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
import { Informer, type InformerOptions, type KubeObject, type SharedInformer } from '../kube/informer.js';
import { MultiNamespaceInformer } from '../kube/multi-namespace-informer.js';
import { kubeSource } from '../kube/source.js';
import { withoutData } from './result-cache.js';
import { cachedJob, cachedPod } from './job-cache.js';
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
  runbooks: SharedInformer<CachedRunbook>;
  jobs: SharedInformer<CachedJob>;
  pods: SharedInformer<CachedPod>;
  templates: SharedInformer<CachedTemplate>;
  clusterTemplates: SharedInformer<CachedTemplate>;
  agents: SharedInformer<CachedAgent>;
  clusterAgents: SharedInformer<CachedAgent>;
  decisions: SharedInformer<CachedDecision>;
  gatePolicies: SharedInformer<CachedGatePolicy>;
  clusterGatePolicies: SharedInformer<CachedGatePolicy>;
  cachedResults: SharedInformer<CachedResultEntry>;
}

/** What the API server sets on every object it stores, as the cached types say. */
const STORED: RequiredMeta[] = ['name', 'uid', 'resourceVersion'];
const NAMESPACED: RequiredMeta[] = [...STORED, 'namespace'];

/**
 * An informer of a namespaced kind: of every namespace, of the one watched, or one per watched
 * namespace seen as one cache (a Role in each is all the operator may have).
 */
function scoped<T extends KubeObject>(
  namespaces: readonly string[] | undefined,
  make: (namespace?: string) => Informer<T>,
): SharedInformer<T> {
  if (!namespaces?.length) return make();
  if (namespaces.length === 1) return make(namespaces[0]);
  const each = new Map(namespaces.map((namespace) => [namespace, make(namespace)]));
  return new MultiNamespaceInformer(make().name, each);
}

export function controllerInformers(
  http: KubeHttp,
  namespaces: readonly string[] | undefined,
  options: InformerOptions,
): ControllerInformers {
  const managed = `${LABEL_MANAGED_BY}=${MANAGED_BY}`;
  /** An informer of one of our own kinds: in the watched namespaces, or cluster-scoped. */
  const ownKind = <T extends KubeObject>(
    plural: string,
    clusterScoped: boolean,
    requires = NAMESPACED,
    keep?: (object: T) => T,
  ): SharedInformer<T> => {
    const make = (namespace?: string) =>
      new Informer<T>(
        plural,
        kubeSource(
          http,
          { prefix: `/apis/${GROUP}/${STORAGE_VERSION}`, plural, ...(namespace ? { namespace } : {}) },
          keep,
        ),
        { ...options, requires },
      );
    return clusterScoped ? make() : scoped(namespaces, make);
  };
  /** Jobs or Pods the operator manages, by its label, trimmed by `keep`. */
  const managedKind = <T extends KubeObject>(prefix: string, plural: string, keep: (object: T) => T) =>
    scoped(
      namespaces,
      (namespace?: string) =>
        new Informer<T>(
          plural,
          kubeSource(
            http,
            { prefix, plural, labelSelector: managed, ...(namespace ? { namespace } : {}) },
            keep,
          ),
          { ...options, requires: NAMESPACED },
        ),
    );
  return {
    runbooks: ownKind<CachedRunbook>(PLURAL, false, [...NAMESPACED, 'generation']),
    jobs: managedKind<CachedJob>('/apis/batch/v1', 'jobs', cachedJob),
    pods: managedKind<CachedPod>('/api/v1', 'pods', cachedPod),
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
