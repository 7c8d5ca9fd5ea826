import type { AgentCatalog } from '../../api/catalog.js';
import type { ConditionReason, EventReason, NotificationReason } from '../../api/reasons.js';
import type { PodTemplate } from '../../api/pod-template.js';
import type { EgressSpec } from '../../api/egress.js';
import type { AgentOwner } from '../spec/catalog.js';
import type { DecisionRecord } from '../spec/gates.js';
import type { GatePolicyRecord } from '../spec/gate-policies.js';
import type { SpecV2, StageStatusV2, StatusV2 } from '../../api/v2/runbook.js';
import type { WorkspaceV2 } from '../../api/v2/workspaces.js';
import type { CachedResultSpecV2 } from '../../api/v2/cache.js';
import type { Slot } from '../run/concurrency.js';
import type { Notice } from '../run/notices.js';

/** What the engine needs of an AgentRunbook object. */
export interface RunbookObject {
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    generation: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: SpecV2;
  status?: StatusV2;
}

export type JobState = 'active' | 'succeeded' | 'failed';

/** A Job of the runbook as the controller observed it, with what its Pod reported. */
export interface JobObservation {
  name: string;
  stage: string;
  /** The agent the Job ran (for circuit breakers across runbooks). */
  agent?: string;
  /** The tokens and dollars granted to the attempt, as the Job records them. */
  grant?: { tokens?: number; costUSD?: string };
  execution: string;
  generation: number;
  attempt: number;
  state: JobState;
  /** Reason of the Job's Failed condition, e.g. DeadlineExceeded. */
  failureReason?: string;
  startTime?: string;
  completionTime?: string;
  /** Whether the Pod's terminated agent container has been observed. */
  podTerminated: boolean;
  terminationMessage?: string;
  /** The Pod that reported, whose log holds a report too large for its termination message. */
  pod?: string;
  /**
   * The report line the controller found in that log (reportInLog), or why it could not read it.
   */
  reportLog?: { line: string } | { error: string };
  exitCode?: number;
  /** The container's terminated reason, e.g. OOMKilled or Error. */
  terminatedReason?: string;
  /** The node its Pod was scheduled to. */
  node?: string;
  /** The image digest its Pod reported (containerStatuses[].imageID), as sha256:<hex>. */
  imageDigest?: string;
  /** Why the scheduler cannot place its Pod, while it cannot. */
  unschedulable?: string;
}

/**
 * An agent's recent Jobs across runbooks: its newest finished ones, oldest first (the controller
 * keeps at most AGENT_HISTORY_LIMIT), and how many run now.
 */
export interface AgentHistory {
  finished: readonly JobObservation[];
  running: number;
}

/** The template a runbook was made from, and the spec it made, as status.template keeps it. */
export type TemplateStatus = NonNullable<StatusV2['template']>;
/** spec.template resolved: the template, or why there is none. */
export type TemplateResolution = { template: TemplateStatus } | { reason: TemplateReason; message: string };
/** Why a runbook's template cannot be resolved (its TemplateResolved condition). */
export type TemplateReason = Extract<
  ConditionReason,
  | 'TemplateNotFound'
  | 'NoTemplateMatches'
  | 'TemplateRenderFailed'
  | 'TemplateInvalid'
  | 'TemplatesUnavailable'
>;
/** Why a Job is deleted, told in one Event per reason. */
export type DeletionReason = Extract<
  EventReason,
  'SpecChanged' | 'Rerun' | 'RunStopped' | 'HistoryLimit' | 'HistoryExpired'
>;
/** The ControllerRevision that holds the runbook's spec, as status.revision names it. */
export type RevisionStatus = NonNullable<StatusV2['revision']>;

export interface EngineInput {
  runbook: RunbookObject;
  jobs: JobObservation[];
  now: Date;
  catalog: AgentCatalog;
  /** What each agent's circuit breaker reads, from the Jobs of every runbook. */
  agentHistory?: Pick<ReadonlyMap<string, AgentHistory>, 'get'>;
  /** Whether a run that has not started may start now (concurrency.ts); it starts when absent. */
  slot?: Slot;
  /** The most a stage's outputs may hold as JSON (the operator's --max-output-bytes); MAX_OUTPUT_BYTES by default. */
  maxOutputBytes?: number;
  /**
   * spec.template resolved against the templates the runbook may see, when the status does not
   * hold this generation's (templateToResolve says when); the status then keeps it.
   */
  template?: TemplateResolution;
  /** The ControllerRevision holding this spec, for status.revision (when the operator keeps them). */
  revision?: RevisionStatus;
  /** The runbook's GateDecisions (every generation's; the engine counts the current one's). */
  decisions?: readonly DecisionRecord[];
  /** The gate policies of the runbook's namespace and the cluster; the engine applies those that match. */
  gatePolicies?: readonly GatePolicyRecord[];
  /** The stored results of the runbook's namespace; without it, no stage is cached. */
  resultCache?: ResultCacheView;
  /** The child AgentRunbooks this runbook owns (stages that run a runbook). */
  children?: ChildObservation[];
  /** How many runbooks own this one, up the chain of owners: 0 for a runbook a person made. */
  depth?: number;
  /** The spec of an AgentRunbook of the runbook's namespace, by name (a stage's runbook.name). */
  runbookSpec?: (name: string) => SpecV2 | undefined;
}

/** A child AgentRunbook as the controller observed it. */
export interface ChildObservation {
  name: string;
  stage: string;
  execution: string;
  attempt: number;
  phase?: string;
  /** Why it ended (its Ready condition), once it did. */
  message?: string;
  usage?: { tokens?: number; costUSD?: string };
  /** Its stages' outputs, by stage, in status order. */
  stages: Pick<StageStatusV2, 'name' | 'phase' | 'outputs' | 'outputRefs'>[];
}

/** A child AgentRunbook the controller should create, owned by the runbook. */
export interface ChildPlan {
  name: string;
  stage: string;
  execution: string;
  attempt: number;
  generation: number;
  spec: SpecV2;
}

/** A CachedResult as the engine reads it: everything but the larger outputs' data. */
export interface StoredResult {
  name: string;
  spec: Omit<CachedResultSpecV2, 'data'>;
}

/** One namespace's stored results, as the controller's cache of them holds them. */
export interface ResultCacheView {
  /** The newest stored result for the key, if one has not expired. */
  lookup(key: string): StoredResult | undefined;
  /** The digest a Pod running this image last reported in the namespace (sha256:<hex>). */
  imageDigest(image: string): string | undefined;
}

/** A stage's result to keep for reuse, as a CachedResult in the runbook's namespace. */
export interface CacheStore {
  name: string;
  stage: string;
  spec: CachedResultSpecV2;
}

/** A notify target of an emergency workflow, to be told by the controller. */
export interface Notification {
  target: string;
  reason: NotificationReason;
  message: string;
}

/** A Job the controller should create; the Job builder turns it into a batch/v1 Job. */
export interface JobPlan {
  name: string;
  stage: string;
  agent: string;
  attempt: number;
  execution: string;
  generation: number;
  image: string;
  command?: string[];
  args?: string[];
  resources?: Record<string, unknown>;
  env: Record<string, string>;
  /** Environment variables from Secrets in the runbook's namespace (catalog secretEnv). */
  secretEnv: { name: string; secret: string; key: string }[];
  /** The agent's files (agent-contract.ts FILES) as JSON text: inputs, parameters, budget. */
  files: { inputs: string; parameters: string; budget: string };
  /** The tokens and dollars granted to this attempt, when the run has budgets. */
  grant?: { tokens?: number; costUSD?: string };
  /** Upstream outputs kept in ConfigMaps, mounted at FILES_DIR/<path>. */
  mounts: StoredFile[];
  activeDeadlineSeconds?: number;
  serviceAccountName?: string;
  automountServiceAccountToken: boolean;
  /** The NetworkPolicy that confines the agent's Pods, made before the Job (the Agent's egress). */
  egress?: { policy: string; egress: EgressSpec; owner?: AgentOwner };
  /** The circuit breaker the Job counts for, when not its agent's name (a namespaced Agent's). */
  agentKey?: string;
  /** The agent's Pod template: placement, runtime class, volumes, stricter security settings. */
  podTemplate?: PodTemplate;
  /** Writable scratch: emptyDirs at /tmp and at `home` (which HOME names), with size limits. */
  scratch: { tmpSizeLimit: string; homeSizeLimit: string; home: string };
  /** The runbook's workspaces the stage mounts; claims with a template are made before the Job. */
  workspaces?: PlannedWorkspace[];
  /** Keeps the Pod with the run's others that share a ReadWriteOnce workspace, on their node once known. */
  colocation?: { group: string; node?: string };
}

/** A workspace as one stage mounts it. */
export interface PlannedWorkspace {
  name: string;
  mountPath: string;
  readOnly: boolean;
  /** A claim: made from `template` for this run, or an existing one without it. */
  claim?: { name: string; template?: NonNullable<WorkspaceV2['volumeClaimTemplate']> };
  emptyDir?: NonNullable<WorkspaceV2['emptyDir']>;
}

/** An output kept in a ConfigMap, as a file under the agent's FILES_DIR. */
export interface StoredFile {
  configMap: string;
  key: string;
  /** outputs/<stage>/<output> */
  path: string;
  /** sha256 of the output's JSON, for the cache keys of the stages that read it. */
  digest?: string;
}

/**
 * Outputs of one stage attempt too large for the status: the controller keeps them in a ConfigMap
 * owned by the runbook before it writes the status that refers to them.
 */
export interface OutputStore {
  name: string;
  stage: string;
  execution: string;
  /** Output name -> the output as JSON. */
  data: Record<string, string>;
  /** The CachedResult whose spec.data holds the data instead (a stage that reused it). */
  copyFrom?: string;
}

export interface EngineEvent {
  type: 'Normal' | 'Warning';
  reason: EventReason;
  message: string;
}

export interface Decision {
  status: StatusV2;
  create: JobPlan[];
  delete: { name: string; reason: DeletionReason }[];
  events: EngineEvent[];
  notifications: Notification[];
  /** Notices to people, recorded in status.notices: sent once that status is written. */
  notices?: Notice[];
  /** Outputs to keep in ConfigMaps before the status is written. */
  store?: OutputStore[];
  /** Results to keep for reuse, written (best effort) before the status. */
  cacheStores?: CacheStore[];
  /** Child runbooks to create, after the status (as Jobs are). */
  children?: ChildPlan[];
  /** Child runbooks to cancel (spec.status Cancelled): their stage stopped. */
  cancelChildren?: string[];
  /**
   * A new run replaced one that kept outputs in ConfigMaps: those of every other execution go,
   * but for those named in `keep` (a retry's kept stages refer to them).
   */
  pruneStoredOutputs?: { keepExecution: string; keep: string[] };
  /** The claims made for workspaces of runs other than these go (their Jobs went with spec.history). */
  pruneClaims?: { keepExecutions: string[] };
  /** Look again after this long even if nothing changes. */
  requeueAfterMs?: number;
}
