/**
 * The JSON shapes the operator reads and writes, as they travel on the wire (timestamps are
 * strings). Only the fields the operator uses are spelled out.
 */
import type { AgentRunbookV2 } from '../api/v2/runbook.js';
import type { TemplateSpecV2 } from '../api/v2/template.js';
import type { AgentSpecV2, AgentStatusV2 } from '../api/v2/agent.js';
import type { GateDecisionSpecV2 } from '../api/v2/gate-decision.js';
import type { GatePolicySpecV2 } from '../api/v2/gate-policy.js';
import type { CachedResultSpecV2 } from '../api/v2/cache.js';

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
}

/**
 * The metadata the API server always sets on an object it stores. An informer asked for these
 * fields (InformerOptions.requires) caches no object without them, so readers of its cache need
 * no fallbacks.
 */
export interface StoredMeta extends ObjectMeta {
  name: string;
  uid: string;
  resourceVersion: string;
}
export interface NamespacedMeta extends StoredMeta {
  namespace: string;
}
/** A namespaced object of a kind with a spec (its generation counts spec changes). */
export interface SpecMeta extends NamespacedMeta {
  generation: number;
}
/** An object as an informer caches it: with the metadata it always has. */
export type Stored<T extends { metadata: ObjectMeta }, M extends StoredMeta = NamespacedMeta> = Omit<
  T,
  'metadata'
> & { metadata: M };

/** An AgentRunbook as generated from the v2 schema, with its metadata spelled out. */
export type AgentRunbookJson = Omit<AgentRunbookV2, 'metadata' | 'apiVersion' | 'kind'> & {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
};

export interface JobCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export interface JobJson {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec?: Record<string, unknown>;
  status?: {
    active?: number;
    succeeded?: number;
    failed?: number;
    startTime?: string;
    completionTime?: string;
    conditions?: JobCondition[];
  };
}

export interface ContainerStatusJson {
  name: string;
  /** The image's digest as the runtime pulled it, e.g. docker-pullable://repo@sha256:… */
  imageID?: string;
  state?: {
    running?: { startedAt?: string };
    terminated?: { exitCode?: number; reason?: string; message?: string; finishedAt?: string };
  };
}

export interface PodJson {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec?: { nodeName?: string; containers?: { name: string; image?: string }[] };
  status?: {
    phase?: string;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    containerStatuses?: ContainerStatusJson[];
  };
}

/** An AgentRunbookTemplate or ClusterAgentRunbookTemplate. */
export interface TemplateJson {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec: TemplateSpecV2;
}

/** An Agent or ClusterAgent. */
export interface AgentJson {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec: AgentSpecV2;
  status?: AgentStatusV2;
}

/** A GateDecision. */
export interface GateDecisionJson {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec: GateDecisionSpecV2;
}

/** A GatePolicy or ClusterGatePolicy. */
export interface GatePolicyJson {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec: GatePolicySpecV2;
}

/** A CachedResult: a stage result kept for reuse. */
export interface CachedResultJson {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec: CachedResultSpecV2;
}

/** Objects from the operator's caches. */
export type CachedRunbook = Stored<AgentRunbookJson, SpecMeta>;
/** A Job without its spec (the Pod template): the engine reads a Job's labels and status only. */
export type CachedJob = Stored<Omit<JobJson, 'spec'>>;
/** A Pod with only the fields PodJson names (node, container images, phase, conditions, states). */
export type CachedPod = Stored<PodJson>;
/** A template of either kind (a ClusterAgentRunbookTemplate has no namespace). */
export type CachedTemplate = Stored<TemplateJson, StoredMeta>;
/** An agent of either kind (a ClusterAgent has no namespace). */
export type CachedAgent = Stored<AgentJson, StoredMeta>;
export type CachedDecision = Stored<GateDecisionJson>;
/** A gate policy of either kind (a ClusterGatePolicy has no namespace). */
export type CachedGatePolicy = Stored<GatePolicyJson, StoredMeta>;
/** A CachedResult without its larger outputs' data (spec.data), which the cache never holds. */
export type CachedResultEntry = Stored<CachedResultJson>;
