/**
 * When things happened, as a client watching the cluster sees them: each Job and Pod of a stage
 * (keyed by namespace/runbook/stage) when it appeared and when it was done, and each runbook's
 * phase. Every figure of the benchmark is a difference of two of these times, on one clock.
 */
import { GROUP, PLURAL, STORAGE_VERSION } from '../src/api/group.js';
import { LABEL_RUNBOOK, LABEL_STAGE } from '../src/api/labels.js';
import type { KubeHttp } from '../src/kube/http.js';
import { Informer } from '../src/kube/informer.js';
import { kubeSource } from '../src/kube/source.js';
import type { AgentRunbookJson, JobJson, PodJson } from '../src/kube/types.js';

export interface StageTimes {
  /** The stage's first Job, by name. */
  job?: string;
  jobAdded?: number;
  jobDone?: number;
  /** The stage's first Pod, by name. */
  pod?: string;
  podAdded?: number;
  podDone?: number;
}

export class Timeline {
  readonly stages = new Map<string, StageTimes>();
  /** Unlabelled Jobs (the bed's own, without the operator), by namespace/name: when they completed. */
  readonly plainJobsDone = new Map<string, number>();
  readonly runbooks: Informer<AgentRunbookJson>;
  private readonly jobs: Informer<JobJson>;
  private readonly pods: Informer<PodJson>;
  private readonly listeners = new Set<() => void>();

  constructor(http: KubeHttp) {
    this.jobs = new Informer('bench-jobs', kubeSource(http, { prefix: '/apis/batch/v1', plural: 'jobs' }));
    this.pods = new Informer('bench-pods', kubeSource(http, { prefix: '/api/v1', plural: 'pods' }));
    this.runbooks = new Informer(
      'bench-runbooks',
      kubeSource(http, { prefix: `/apis/${GROUP}/${STORAGE_VERSION}`, plural: PLURAL }),
    );
    const notify = () => {
      this.notify();
    };
    const onJob = (job: JobJson) => {
      const done = job.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True');
      const times = this.times(job);
      if (!times) {
        if (done) {
          this.plainJobsDone.set(
            `${job.metadata.namespace ?? ''}/${job.metadata.name ?? ''}`,
            performance.now(),
          );
          this.notify();
        }
        return;
      }
      times.job ??= job.metadata.name;
      times.jobAdded ??= performance.now();
      if (done) times.jobDone ??= performance.now();
      this.notify();
    };
    const onPod = (pod: PodJson) => {
      const times = this.times(pod);
      if (!times) return;
      times.pod ??= pod.metadata.name;
      times.podAdded ??= performance.now();
      if (pod.status?.phase === 'Succeeded') times.podDone ??= performance.now();
      this.notify();
    };
    this.jobs.on({ add: onJob, update: onJob });
    this.pods.on({ add: onPod, update: onPod, delete: notify });
    this.runbooks.on({ add: notify, update: notify });
  }

  async start(): Promise<void> {
    await Promise.all([this.jobs.start(), this.pods.start(), this.runbooks.start()]);
  }

  stop(): void {
    for (const informer of [this.jobs, this.pods, this.runbooks]) informer.stop();
  }

  /** Pods the Job controller has not finished with (they still carry its tracking finalizer). */
  podsTracked(): number {
    let tracked = 0;
    for (const pod of this.pods.values()) {
      if (pod.metadata.finalizers?.includes('batch.kubernetes.io/job-tracking')) tracked += 1;
    }
    return tracked;
  }

  stage(namespace: string, runbook: string, stage: string): StageTimes | undefined {
    return this.stages.get(`${namespace}/${runbook}/${stage}`);
  }

  /** Resolves when `done()` holds, re-checked on every event; rejects after `timeoutMs`. */
  until(what: string, done: () => boolean, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!done()) return;
        clearTimeout(timer);
        this.listeners.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.listeners.add(check);
      check();
    });
  }

  private times(object: JobJson | PodJson): StageTimes | undefined {
    const labels = object.metadata.labels ?? {};
    const runbook = labels[LABEL_RUNBOOK];
    const stage = labels[LABEL_STAGE];
    if (!runbook || !stage) return undefined;
    const key = `${object.metadata.namespace ?? ''}/${runbook}/${stage}`;
    let times = this.stages.get(key);
    if (!times) this.stages.set(key, (times = {}));
    return times;
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}
