/**
 * The Job and Pod caches as the reconciler reads them: indexed by owner, so observing one runbook
 * reads its own Jobs and their Pods and nothing else, however many other runbooks' Jobs are cached.
 */
import type { AgentCatalog } from '../api/catalog.js';
import { isDeepStrictEqual } from 'node:util';
import { breakerConfig, breakerState, type BreakerState } from '../engine/stage/circuit-breaker.js';
import type { AgentHistory, JobObservation } from '../engine/model/types.js';
import { objectKey, type SharedInformer } from '../kube/informer.js';
import type { CachedJob, ContainerStatusJson, ObjectMeta, CachedPod } from '../kube/types.js';
import { AgentLedger } from './agent-ledger.js';
import { observeJob } from './observe.js';

const JOBS_BY_OWNER = 'owner-uid';
const PODS_BY_JOB = 'job-uid';

/**
 * What the cache keeps of a Job: its metadata and status. The spec (the whole Pod template, most
 * of a Job's bytes) is never read from the cache, and a cluster holds thousands of finished Jobs.
 */
export function cachedJob(job: CachedJob): CachedJob {
  const { apiVersion, kind, metadata, status } = job;
  return { apiVersion, kind, metadata, ...(status ? { status } : {}) };
}

/** What the cache keeps of a Pod: what observeJob and the result cache read (PodJson's fields). */
export function cachedPod(pod: CachedPod): CachedPod {
  const { apiVersion, kind, metadata, spec, status } = pod;
  const containerState = ({ name, imageID, state }: ContainerStatusJson) => ({
    name,
    ...(imageID !== undefined ? { imageID } : {}),
    ...(state !== undefined ? { state } : {}),
  });
  return {
    apiVersion,
    kind,
    metadata,
    spec: {
      ...(spec?.nodeName !== undefined ? { nodeName: spec.nodeName } : {}),
      containers: (spec?.containers ?? []).map(({ name, image }) => ({ name, ...(image ? { image } : {}) })),
    },
    ...(status
      ? {
          status: {
            ...(status.phase !== undefined ? { phase: status.phase } : {}),
            ...(status.conditions ? { conditions: status.conditions } : {}),
            ...(status.containerStatuses
              ? { containerStatuses: status.containerStatuses.map(containerState) }
              : {}),
          },
        }
      : {}),
  };
}

/** Two observations alike in all the engine decides from (see JobCache.jobViewChanged). */
function sameView(a: JobObservation | undefined, b: JobObservation | undefined): boolean {
  const view = (observation: JobObservation | undefined) =>
    observation && { ...observation, pod: undefined, startTime: undefined };
  return isDeepStrictEqual(view(a), view(b));
}

export function controllerOwner(metadata: ObjectMeta, kind: string) {
  return (metadata.ownerReferences ?? []).find((ref) => ref.kind === kind && ref.controller === true);
}

const ownerUid = (kind: string) => (object: { metadata: ObjectMeta }) => {
  const owner = controllerOwner(object.metadata, kind);
  return owner ? [owner.uid] : [];
};

export class JobCache {
  /** The circuit breakers' view: each agent's recent Jobs, kept as Job and Pod events arrive. */
  private readonly ledger = new AgentLedger();

  constructor(
    readonly jobs: SharedInformer<CachedJob>,
    readonly pods: SharedInformer<CachedPod>,
  ) {
    jobs.addIndex(JOBS_BY_OWNER, ownerUid('AgentRunbook'));
    pods.addIndex(PODS_BY_JOB, ownerUid('Job'));
    const record = (job: CachedJob) => {
      this.ledger.record(objectKey(job), this.observe(job));
    };
    jobs.on({
      add: record,
      update: record,
      delete: (job) => {
        this.ledger.forgetRunning(objectKey(job));
      },
    });
    const recordJobOf = (pod: CachedPod) => {
      const job = this.jobOf(pod);
      if (job) record(job);
    };
    pods.on({ add: recordJobOf, update: recordJobOf, delete: recordJobOf });
  }

  /** The Job that owns a Pod, from the cache. */
  jobOf(pod: CachedPod): CachedJob | undefined {
    const owner = controllerOwner(pod.metadata, 'Job');
    return owner && this.jobs.get(`${pod.metadata.namespace}/${owner.name}`);
  }

  observe(job: CachedJob): JobObservation | undefined {
    return observeJob(job, this.pods.byIndex(PODS_BY_JOB, job.metadata.uid));
  }

  /**
   * Whether a Job's update changes what the engine reads of it: its observation, but for the Pod's
   * name and the Job's start time, which only fill in what the status already holds. Watch
   * handlers run once the cache holds the new object.
   */
  jobViewChanged(next: CachedJob, old: CachedJob): boolean {
    const pods = this.pods.byIndex(PODS_BY_JOB, next.metadata.uid);
    return !sameView(observeJob(next, pods), observeJob(old, pods));
  }

  /** Whether a Pod's add (no `old`) or update changes what the engine reads of its Job. */
  podViewChanged(next: CachedPod, old?: CachedPod): boolean {
    const job = this.jobOf(next);
    if (!job) return true;
    const pods = this.pods.byIndex(PODS_BY_JOB, job.metadata.uid);
    const before = pods.flatMap((pod) => (pod.metadata.uid !== next.metadata.uid ? [pod] : old ? [old] : []));
    return !sameView(observeJob(job, pods), observeJob(job, before));
  }

  /** The Jobs a runbook owns (its controller owner reference names its UID), observed with their Pods. */
  observeOwned(runbookUid: string): JobObservation[] {
    const observed: JobObservation[] = [];
    for (const job of this.jobs.byIndex(JOBS_BY_OWNER, runbookUid)) {
      const observation = this.observe(job);
      if (observation) observed.push(observation);
    }
    return observed;
  }

  /** Each agent with a history, and the state of its circuit breaker now. */
  *breakers(catalog: AgentCatalog, now: number): Generator<{ agent: string; state: BreakerState['state'] }> {
    for (const agent of this.ledger.agentNames()) {
      const state = breakerState(this.ledger.history(agent), breakerConfig(catalog, agent), now).state;
      yield { agent, state };
    }
  }

  /** The circuit breakers' history of each agent, read only for the agents a runbook asks about. */
  readonly agentHistory: Pick<ReadonlyMap<string, AgentHistory>, 'get'> = {
    get: (agent) => this.ledger.history(agent),
  };
}
