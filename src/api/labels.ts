/** Labels and annotations the operator puts on, and reads from, the objects it manages. */
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'agentrunbook-operator';
export const LABEL_RUNBOOK = 'i2s.studio/runbook';
export const LABEL_STAGE = 'i2s.studio/stage';
export const LABEL_AGENT = 'i2s.studio/agent';
export const LABEL_GENERATION = 'i2s.studio/generation';
export const LABEL_EXECUTION = 'i2s.studio/execution';
export const LABEL_ATTEMPT = 'i2s.studio/attempt';
/** On a Job of an item of a forEach stage: the item's index (the stage label names its stage). */
export const LABEL_ITEM = 'i2s.studio/item';
/** On a child AgentRunbook (a stage that runs a runbook): its parent runbook's name. */
export const LABEL_PARENT = 'i2s.studio/parent';
/** On a CachedResult: the first 63 hex digits of its cache key, for selectors. */
export const LABEL_CACHE_KEY = 'i2s.studio/cache-key';
/** On Pods of a run that share a ReadWriteOnce workspace: the group they keep to one node by. */
export const LABEL_COLOCATE = 'i2s.studio/colocate';

/** A new value re-runs the runbook without a spec change. */
export const ANNOTATION_RERUN = 'i2s.studio/rerun';
/**
 * Set to the execution of a run that ended without success (status.execution): a new run starts
 * that keeps that run's succeeded stages, with their outputs and usage, and runs the rest again.
 */
export const ANNOTATION_RETRY = 'i2s.studio/retry';
/** On a Job: the circuit breaker it counts for (namespace/name for a namespaced Agent), when not its agent label. */
export const ANNOTATION_AGENT_KEY = 'i2s.studio/agent-key';
/**
 * On a Job: the tokens and dollars granted to its attempt, as JSON, when the run has budgets. The
 * status records the grant too; a reconcile that finds a Job its status does not (the status write
 * that went with the Job failed) adopts the Job with this grant.
 */
export const ANNOTATION_GRANT = 'i2s.studio/grant';

/** On ControllerRevisions: the owning runbook's uid, the spec's hash, and the bump from the revision before. */
export const LABEL_RUNBOOK_UID = 'i2s.studio/runbook-uid';
export const LABEL_REVISION_HASH = 'i2s.studio/revision-hash';
export const LABEL_BUMP = 'i2s.studio/bump';
/** On ControllerRevisions: the spec.version it holds, and what changed from the revision before. */
export const ANNOTATION_VERSION = 'i2s.studio/version';
export const ANNOTATION_CHANGES = 'i2s.studio/changes';

/**
 * On agent Pods: the stage's resolved inputs, parameters and budget as JSON, which the downward
 * API projects into the agent's files (agent-contract.ts FILES); the API server bounds all of a
 * Pod's annotations together to 256 KiB.
 */
export const ANNOTATION_INPUTS = 'i2s.studio/inputs';
export const ANNOTATION_PARAMETERS = 'i2s.studio/parameters';
export const ANNOTATION_BUDGET = 'i2s.studio/budget';

/** On a runbook: the user whose request last changed its spec, written by the admission webhook only. */
export const ANNOTATION_AUTHOR = 'i2s.studio/author';
/** On a GateDecision: the runbook and gate it decides (set by the admission webhook, for selectors). */
export const LABEL_GATE = 'i2s.studio/gate';
