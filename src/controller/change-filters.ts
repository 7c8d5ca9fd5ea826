/**
 * Which watch updates are worth a reconcile: those that change something the engine reads. The
 * operator's own status writes, resourceVersion-only updates (managedFields, a relist) and Pod
 * condition churn only cost a reconcile that finds nothing new (controller-runtime's
 * GenerationChangedPredicate and AnnotationChangedPredicate are the model).
 */
import { isDeepStrictEqual } from 'node:util';
import type { JobObservation } from '../engine/model/types.js';
import type { AgentRunbookJson, JobJson, ObjectMeta, PodJson } from '../kube/types.js';

const deletionChanged = (a: ObjectMeta, b: ObjectMeta) => a.deletionTimestamp !== b.deletionTimestamp;

/** A new spec (generation), a new annotation (rerun, gate decisions) or a deletion. */
export function runbookChanged(next: AgentRunbookJson, old: AgentRunbookJson): boolean {
  return (
    next.metadata.generation !== old.metadata.generation ||
    !isDeepStrictEqual(next.metadata.annotations ?? {}, old.metadata.annotations ?? {}) ||
    deletionChanged(next.metadata, old.metadata)
  );
}

/**
 * A Job that appears, as observed with its Pods: news to its runbook unless it says no more than
 * that it exists (active, no Pod yet) and either the runbook's status already runs it in a stage,
 * or this operator was waiting for it (`expected`: it created it) and the status is not of another
 * run. The reconcile that created it decided as if it were there, and wrote the status running it
 * together with it; if that write failed, that reconcile is retried. An unseen Job of a Running
 * stage is planned again under the same name, which the decision writer skips while it expects
 * the Job. Any other Job (a stale run's, a stopped stage's) is news: it may be deleted.
 */
export function jobAppeared(
  job: JobObservation | undefined,
  runbook: AgentRunbookJson | undefined,
  expected = false,
): boolean {
  if (!job || job.state !== 'active' || job.pod !== undefined) return true;
  const execution = runbook?.status?.execution;
  if (execution !== undefined && execution !== job.execution) return true;
  if (expected) return false;
  if (!runbook?.status || execution === undefined) return true;
  return !(runbook.status.stages ?? []).some((stage) => stage.job === job.name && stage.phase === 'Running');
}

/**
 * A Job's progress: its deletion, or a new status (active, conditions, times) that `observed`
 * says changes what the engine reads of the Job (JobCache.jobViewChanged).
 */
export function jobChanged(next: JobJson, old: JobJson, observed: () => boolean = () => true): boolean {
  if (deletionChanged(next.metadata, old.metadata)) return true;
  return !isDeepStrictEqual(next.status ?? {}, old.status ?? {}) && observed();
}

/**
 * What the engine reads of a Pod: its deletion, or its phase and its containers' states (the
 * agent's report) where `observed` says they change what the engine reads of its Job.
 */
export function podChanged(next: PodJson, old: PodJson, observed: () => boolean = () => true): boolean {
  if (deletionChanged(next.metadata, old.metadata)) return true;
  const states = (pod: PodJson) => (pod.status?.containerStatuses ?? []).map((status) => status.state);
  return (
    (next.status?.phase !== old.status?.phase || !isDeepStrictEqual(states(next), states(old))) && observed()
  );
}
