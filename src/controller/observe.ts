/**
 * Turns the Jobs and Pods in the caches into the engine's JobObservations. A Job runs one Pod
 * (backoffLimit 0, restartPolicy Never), so a Pod that ended on its own is the Job's outcome: the
 * stage finishes when the Pod does, not a second later when the Job controller marks the Job.
 */
import { isMoney } from '../api/grammar.js';
import {
  ANNOTATION_AGENT_KEY,
  ANNOTATION_GRANT,
  LABEL_AGENT,
  LABEL_ATTEMPT,
  LABEL_EXECUTION,
  LABEL_GENERATION,
  LABEL_STAGE,
  LABEL_ITEM,
} from '../api/labels.js';
import type { JobObservation, JobState } from '../engine/model/types.js';
import { AGENT_CONTAINER } from './job-builder.js';
import { reportedDigest } from '../engine/stage/cache-key.js';
import type { JobJson, PodJson } from '../kube/types.js';

/**
 * What the Job's conditions say. Since Kubernetes 1.31 a Job that failed (its deadline, say) first
 * gets FailureTarget, and Failed only once its Pod has terminated, up to the Pod's grace period
 * later: FailureTarget is already the outcome (SuccessCriteriaMet likewise for success).
 */
function jobState(job: JobJson): { state: JobState; failureReason?: string } {
  const conditions = job.status?.conditions ?? [];
  const holds = (type: string) => conditions.some((c) => c.type === type && c.status === 'True');
  if (holds('Complete') || holds('SuccessCriteriaMet')) return { state: 'succeeded' };
  const failed =
    conditions.find((c) => c.type === 'Failed' && c.status === 'True') ??
    conditions.find((c) => c.type === 'FailureTarget' && c.status === 'True');
  if (failed) return { state: 'failed', ...(failed.reason ? { failureReason: failed.reason } : {}) };
  return { state: 'active' };
}

const ENDED = new Set(['Complete', 'Failed', 'SuccessCriteriaMet', 'FailureTarget']);

/** When the Job finished: its completionTime, or (a failed Job has none) when it became Failed. */
function finishedAt(job: JobJson): string | undefined {
  const ended = job.status?.conditions?.find((c) => ENDED.has(c.type) && c.status === 'True');
  return job.status?.completionTime ?? ended?.lastTransitionTime;
}

/** The Pod that reported last: a terminated one if any. */
function reportingPod(pods: PodJson[]): PodJson | undefined {
  return pods.find((pod) => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') ?? pods[0];
}

/**
 * The outcome of a Job whose Pod ended on its own. A Pod being deleted (the Job's deadline, a
 * deletion) is not one: the Job's own Failed condition says why it ended.
 */
function podState(
  pod: PodJson | undefined,
  finishedAt: string | undefined,
): { state: JobState; completionTime?: string } | undefined {
  if (!pod || pod.metadata.deletionTimestamp) return undefined;
  const phase = pod.status?.phase;
  if (phase !== 'Succeeded' && phase !== 'Failed') return undefined;
  return {
    state: phase === 'Succeeded' ? 'succeeded' : 'failed',
    ...(finishedAt ? { completionTime: finishedAt } : {}),
  };
}

/** Longer than any grant the operator writes: anything longer was not written by it. */
const MAX_GRANT_CHARS = 128;

/**
 * The grant a Job records (ANNOTATION_GRANT). Anyone who may edit the Job may edit it, so it is
 * bounded and checked, and taken only where it holds what the operator writes.
 */
function recordedGrant(text: string | undefined): JobObservation['grant'] {
  if (text === undefined || text.length > MAX_GRANT_CHARS) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { tokens, costUSD } = value as Record<string, unknown>;
  const grant = {
    ...(Number.isSafeInteger(tokens) && (tokens as number) >= 0 ? { tokens: tokens as number } : {}),
    ...(typeof costUSD === 'string' && isMoney(costUSD) ? { costUSD } : {}),
  };
  return Object.keys(grant).length ? grant : undefined;
}

export function observeJob(job: JobJson, pods: PodJson[]): JobObservation | undefined {
  const labels = job.metadata.labels ?? {};
  const agent = job.metadata.annotations?.[ANNOTATION_AGENT_KEY] ?? labels[LABEL_AGENT];
  const grant = recordedGrant(job.metadata.annotations?.[ANNOTATION_GRANT]);
  const item = labels[LABEL_ITEM];
  const stage = item === undefined ? labels[LABEL_STAGE] : `${labels[LABEL_STAGE] ?? ''}[${item}]`;
  const execution = labels[LABEL_EXECUTION];
  const attempt = Number(labels[LABEL_ATTEMPT]);
  const generation = Number(labels[LABEL_GENERATION]);
  if (
    !stage ||
    !execution ||
    !Number.isInteger(attempt) ||
    !Number.isInteger(generation) ||
    !job.metadata.name
  ) {
    return undefined;
  }
  const pod = reportingPod(pods);
  const agentStatus = pod?.status?.containerStatuses?.find((c) => c.name === AGENT_CONTAINER);
  const terminated = agentStatus?.state?.terminated;
  const imageDigest = reportedDigest(agentStatus?.imageID);
  const podTerminated = pod?.status?.phase === 'Succeeded' || pod?.status?.phase === 'Failed';
  const fromJob = jobState(job);
  const ended = terminated ? podState(pod, terminated.finishedAt) : undefined;
  // Once the Job controller marks the Job as its Pod ended, the end stays the Pod's: the Job's
  // SuccessCriteriaMet and Complete a moment later are then nothing new to decide on.
  const fromPod = ended && (fromJob.state === 'active' || fromJob.state === ended.state) ? ended : undefined;
  const completionTime = fromPod?.completionTime ?? finishedAt(job);
  const node = pod?.spec?.nodeName;
  const unschedulable = pod?.status?.conditions?.find(
    (c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable',
  );
  return {
    name: job.metadata.name,
    stage,
    ...(agent ? { agent } : {}),
    ...(grant ? { grant } : {}),
    execution,
    generation,
    attempt,
    ...(fromPod && fromJob.state === 'active' ? { state: fromPod.state } : fromJob),
    ...(job.status?.startTime ? { startTime: job.status.startTime } : {}),
    ...(completionTime ? { completionTime } : {}),
    podTerminated: podTerminated && terminated !== undefined,
    ...(pod?.metadata.name ? { pod: pod.metadata.name } : {}),
    ...(terminated?.message !== undefined ? { terminationMessage: terminated.message } : {}),
    ...(terminated?.exitCode !== undefined ? { exitCode: terminated.exitCode } : {}),
    ...(terminated?.reason !== undefined ? { terminatedReason: terminated.reason } : {}),
    ...(node ? { node } : {}),
    ...(imageDigest ? { imageDigest } : {}),
    ...(unschedulable && !node ? { unschedulable: unschedulable.message ?? 'Unschedulable' } : {}),
  };
}
