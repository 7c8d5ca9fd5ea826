/**
 * What one reconcile costs before any request: observing the runbook's Jobs from the caches and
 * deciding. Measured with an empty cache and with 25,000 Jobs and Pods of 2,500 other runbooks
 * cached; the caches are filled from a list, as after a start, with no API server.
 */
import { JobCache } from '../src/controller/job-cache.js';
import { buildJob } from '../src/controller/job-builder.js';
import { observeJob } from '../src/controller/observe.js';
import { decide } from '../src/engine/run/decide.js';
import type { RunbookObject } from '../src/engine/model/types.js';
import { Informer, type InformerSource } from '../src/kube/informer.js';
import type { CachedRunbook, CachedJob, CachedPod } from '../src/kube/types.js';

const STAGES = ['s1', 's2', 's3', 's4', 's5'];
const OTHER_RUNBOOKS = 2_500;
const SAMPLES = 200;

function staticSource<T>(items: T[]): InformerSource<T> {
  return {
    list: () => Promise.resolve({ items, resourceVersion: '1' }),
    watch: () => Promise.resolve({ abort: () => undefined }),
  };
}

function runbook(uid: string): RunbookObject & CachedRunbook {
  return {
    metadata: { name: uid, namespace: 'bench', uid, generation: 1, resourceVersion: '1' },
    spec: {
      version: '1.0.0',
      execution: { mode: 'pipeline', parallelism: 5 },
      agents: { pipeline: STAGES.map((name) => ({ name, agent: 'bench' })) },
    },
  };
}

const catalog = { agents: [{ name: 'bench', image: 'bench:0' }] };

/** The runbook's Jobs and Pods after `finished` stages succeeded and the next one runs, and its status. */
function jobsOf(
  object: RunbookObject & CachedRunbook,
  finished: number,
): { jobs: CachedJob[]; pods: CachedPod[] } {
  const jobs: CachedJob[] = [];
  const pods: CachedPod[] = [];
  const now = new Date('2026-01-01T00:00:00Z').toISOString();
  for (let step = 0; step <= finished; step += 1) {
    const observed = jobs.flatMap((job, i) => observeJob(job, pods.slice(i, i + 1)) ?? []);
    const decision = decide({ runbook: object, jobs: observed, now: new Date(now), catalog });
    object.status = decision.status;
    for (const plan of decision.create) {
      const uid = `${object.metadata.uid}-${plan.stage}`;
      const built = buildJob(object, plan);
      const metadata = { ...built.metadata, name: plan.name, namespace: 'bench', uid, resourceVersion: '1' };
      const job: CachedJob = { ...built, metadata };
      const done = step < finished;
      job.status = done
        ? { conditions: [{ type: 'Complete', status: 'True' }], completionTime: now, startTime: now }
        : { active: 1, startTime: now };
      jobs.push(job);
      const terminated = { exitCode: 0, message: '{"outputs":{}}', finishedAt: now };
      pods.push({
        metadata: {
          name: `${plan.name}-pod`,
          namespace: 'bench',
          uid: `${uid}-pod`,
          resourceVersion: '1',
          labels: job.metadata.labels ?? {},
          ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: plan.name, uid, controller: true }],
        },
        status: done
          ? { phase: 'Succeeded', containerStatuses: [{ name: 'agent', state: { terminated } }] }
          : { phase: 'Running', containerStatuses: [{ name: 'agent', state: { running: {} } }] },
      });
    }
  }
  return { jobs, pods };
}

async function cacheWith(jobs: CachedJob[], pods: CachedPod[]): Promise<JobCache> {
  const jobInformer = new Informer('jobs', staticSource(jobs));
  const podInformer = new Informer('pods', staticSource(pods));
  const cache = new JobCache(jobInformer, podInformer);
  await Promise.all([jobInformer.start(), podInformer.start()]);
  jobInformer.stop();
  podInformer.stop();
  return cache;
}

function medianReconcileMs(target: RunbookObject & CachedRunbook, cache: JobCache): number {
  const samples: number[] = [];
  for (let i = 0; i < SAMPLES; i += 1) {
    const started = performance.now();
    decide({
      runbook: target,
      jobs: cache.observeOwned(target.metadata.uid),
      agentHistory: cache.agentHistory,
      now: new Date('2026-01-01T00:00:01Z'),
      catalog,
    });
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)] ?? Number.NaN;
}

export async function reconcileCost(): Promise<{ emptyMs: number; fullMs: number; cached: number }> {
  const target = runbook('target');
  const own = jobsOf(target, 2);
  const others = Array.from({ length: OTHER_RUNBOOKS }, (_, i) => jobsOf(runbook(`other-${i}`), 4));
  const empty = await cacheWith(own.jobs, own.pods);
  const full = await cacheWith(
    [...own.jobs, ...others.flatMap((o) => o.jobs)],
    [...own.pods, ...others.flatMap((o) => o.pods)],
  );
  return {
    emptyMs: medianReconcileMs(target, empty),
    fullMs: medianReconcileMs(target, full),
    cached: own.jobs.length + own.pods.length + others.reduce((n, o) => n + o.jobs.length + o.pods.length, 0),
  };
}
