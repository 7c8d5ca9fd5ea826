import { expect } from 'chai';
import { cachedJob, cachedPod, JobCache } from '../../../src/controller/job-cache.js';
import { AGENT_CONTAINER, buildJob } from '../../../src/controller/job-builder.js';
import { observeJob } from '../../../src/controller/observe.js';
import { Informer } from '../../../src/kube/informer.js';
import { sourceOf } from '../../support/informer-sources.js';
import type { CachedJob, CachedPod } from '../../../src/kube/types.js';

const labels = (stage: string, agent: string) => ({
  'i2s.studio/stage': stage,
  'i2s.studio/agent': agent,
  'i2s.studio/execution': 'e1',
  'i2s.studio/attempt': '1',
  'i2s.studio/generation': '1',
});

function job(name: string, runbookUid: string, agent: string, finishedMinute?: number): CachedJob {
  return {
    metadata: {
      name,
      namespace: 'ns',
      uid: `uid-${name}`,
      resourceVersion: '1',
      labels: labels(name, agent),
      ownerReferences: [
        { apiVersion: 'i2s.studio/v2', kind: 'AgentRunbook', name: 'rb', uid: runbookUid, controller: true },
      ],
    },
    status:
      finishedMinute === undefined
        ? { active: 1 }
        : {
            conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }],
            completionTime: new Date(Date.UTC(2026, 0, 1, 0, finishedMinute)).toISOString(),
          },
  };
}

function pod(jobName: string, phase: string, extra: Partial<CachedPod['metadata']> = {}): CachedPod {
  return {
    metadata: {
      name: `${jobName}-pod`,
      namespace: 'ns',
      uid: `pod-${jobName}`,
      resourceVersion: '1',
      ownerReferences: [
        { apiVersion: 'batch/v1', kind: 'Job', name: jobName, uid: `uid-${jobName}`, controller: true },
      ],
      ...extra,
    },
    status: {
      phase,
      containerStatuses: [
        {
          name: 'agent',
          state:
            phase === 'Running'
              ? { running: {} }
              : {
                  terminated: {
                    exitCode: phase === 'Succeeded' ? 0 : 1,
                    message: phase === 'Succeeded' ? '{"outputs":{}}' : '{"error":{"class":"API_ERROR"}}',
                    finishedAt: '2026-01-01T01:00:00Z',
                  },
                },
        },
      ],
    },
  };
}

async function cacheOf(jobs: CachedJob[], pods: CachedPod[]) {
  const jobSource = sourceOf(jobs);
  const podSource = sourceOf(pods);
  const jobInformer = new Informer('jobs', jobSource.source);
  const podInformer = new Informer('pods', podSource.source);
  const cache = new JobCache(jobInformer, podInformer);
  await Promise.all([jobInformer.start(), podInformer.start()]);
  started.push(jobInformer, podInformer);
  return { cache, jobWatch: jobSource.watch };
}

const started: { stop(): void }[] = [];

describe('the Job cache the reconciler reads', () => {
  afterEach(() => {
    for (const informer of started.splice(0)) informer.stop();
  });

  it('observes only the Jobs a runbook owns, with their own Pods, among 25,000 others', async () => {
    const others = Array.from({ length: 25_000 }, (_, i) => job(`other-${i}`, `rb-${i % 500}`, 'research'));
    const { cache } = await cacheOf(
      [...others, job('mine-a', 'me', 'research'), job('mine-b', 'me', 'writer')],
      [pod('mine-a', 'Running'), pod('mine-b', 'Succeeded'), pod('other-1', 'Succeeded')],
    );
    const observed = cache.observeOwned('me');
    expect(observed.map((o) => [o.name, o.state]).sort()).to.deep.equal([
      ['mine-a', 'active'],
      ['mine-b', 'succeeded'],
    ]);
    // other-1 ended with its Pod; the other 24,999 and mine-a run.
    expect(cache.agentHistory.get('research')?.running).to.equal(25_000);
  });

  it('finishes a Job from its Pod that ended on its own, but not from a Pod being deleted', async () => {
    const { cache } = await cacheOf(
      [job('ended', 'me', 'a'), job('killed', 'me', 'a')],
      [pod('ended', 'Failed'), pod('killed', 'Failed', { deletionTimestamp: '2026-01-01T01:00:00Z' })],
    );
    const byName = new Map(cache.observeOwned('me').map((o) => [o.name, o]));
    expect(byName.get('ended')).to.include({ state: 'failed', completionTime: '2026-01-01T01:00:00Z' });
    expect(byName.get('killed')).to.include({ state: 'active' });
  });

  it('tells which Job and Pod changes the engine would decide differently on, and which it would not', async () => {
    const running = job('s1', 'me', 'a');
    const started = pod('s1', 'Running');
    // The watch's handlers run once the cache holds the new object: each case caches `next`.
    const changed = async (jobs: CachedJob[], next: CachedPod, old?: CachedPod) =>
      (await cacheOf(jobs, [next])).cache.podViewChanged(next, old);
    // A Pod that only exists, or a Job that only started, changes nothing the engine reads.
    expect(await changed([running], { ...started, status: { phase: 'Pending' } })).to.equal(false);
    const { cache } = await cacheOf([running], [started]);
    expect(cache.jobViewChanged({ ...running, status: { active: 1, startTime: 't' } }, running)).to.equal(
      false,
    );
    // Where it runs (workspaces read it) and how it ended do.
    expect(await changed([running], { ...started, spec: { nodeName: 'node-1' } }, started)).to.equal(true);
    expect(await changed([running], pod('s1', 'Succeeded'), started)).to.equal(true);
    expect(cache.jobViewChanged(job('s1', 'me', 'a', 5), running)).to.equal(true);
    // Once its Pod ended, the Job controller marking the Job the same way is nothing new.
    const ended = await cacheOf([running], [pod('s1', 'Succeeded')]);
    const complete = (type: string, completionTime?: string): CachedJob => ({
      ...running,
      status: {
        conditions: [{ type, status: 'True', lastTransitionTime: '2026-01-01T01:00:02Z' }],
        ...(completionTime ? { completionTime } : {}),
      },
    });
    const met = complete('SuccessCriteriaMet');
    expect(ended.cache.jobViewChanged(met, running)).to.equal(false);
    expect(ended.cache.jobViewChanged(complete('Complete', '2026-01-01T01:00:03Z'), met)).to.equal(false);
    expect(ended.cache.observe(complete('Complete', '2026-01-01T01:00:03Z'))).to.include({
      state: 'succeeded',
      completionTime: '2026-01-01T01:00:00Z',
    });
    // A Job that ended otherwise than its Pod says (its deadline) is the Job's outcome.
    const failed = ended.cache.observe({
      ...running,
      status: {
        conditions: [{ type: 'Failed', status: 'True', reason: 'DeadlineExceeded' }],
        completionTime: '2026-01-01T01:00:05Z',
      },
    });
    expect(failed).to.include({
      state: 'failed',
      failureReason: 'DeadlineExceeded',
      completionTime: '2026-01-01T01:00:05Z',
    });
    // A Pod of no cached Job is left to the watch's mapping, which finds no runbook for it.
    expect(await changed([], pod('other', 'Running'))).to.equal(true);
  });

  it('keeps an agent’s newest finished Jobs, bounded, and remembers them after the Jobs are deleted', async () => {
    const finished = Array.from({ length: 150 }, (_, i) => job(`f-${i}`, 'me', 'flaky', i));
    const { cache, jobWatch } = await cacheOf(finished, []);
    const history = () => cache.agentHistory.get('flaky');
    expect(history()?.finished).to.have.length(100);
    expect(history()?.finished[0]?.name).to.equal('f-50');
    expect(history()?.finished.at(-1)?.name).to.equal('f-149');
    const newest = finished.at(-1);
    if (!newest || !jobWatch.emit) throw new Error('no watch');
    jobWatch.emit('DELETED', newest);
    expect(history()?.finished.at(-1)?.name).to.equal('f-149');
    jobWatch.emit('ADDED', job('late', 'me', 'flaky', 10));
    expect(history()?.finished.map((o) => o.name)).to.not.include('late');
    jobWatch.emit('ADDED', job('running', 'me', 'flaky'));
    expect(history()?.running).to.equal(1);
    jobWatch.emit('DELETED', job('running', 'me', 'flaky'));
    expect(history()?.running).to.equal(0);
  });

  it('leaves an agent’s history as it is when a finished Job’s event says nothing new', async () => {
    const done = job('done', 'me', 'flaky', 3);
    const { cache, jobWatch } = await cacheOf([done], []);
    if (!jobWatch.emit) throw new Error('no watch');
    const before = cache.agentHistory.get('flaky')?.finished;
    jobWatch.emit('MODIFIED', { ...done, metadata: { ...done.metadata, resourceVersion: '2' } });
    expect(cache.agentHistory.get('flaky')?.finished).to.equal(before);
    const reason = 'DeadlineExceeded';
    const status = { ...done.status, conditions: [{ type: 'Failed', status: 'True', reason }] };
    jobWatch.emit('MODIFIED', { ...done, metadata: { ...done.metadata, resourceVersion: '3' }, status });
    expect(cache.agentHistory.get('flaky')?.finished).to.not.equal(before);
    expect(cache.agentHistory.get('flaky')?.finished.map((o) => o.failureReason)).to.deep.equal([reason]);
  });
});

describe('what the Job and Pod caches keep', () => {
  const built = buildJob(
    {
      metadata: { name: 'rb', namespace: 'ns', uid: 'rb-uid', generation: 1, resourceVersion: '1' },
      spec: { version: '1.0.0', agents: {} },
    },
    {
      name: 'rb-research-1',
      stage: 'research',
      agent: 'research',
      attempt: 1,
      execution: 'e1',
      generation: 1,
      image: 'example.com/agent:1',
      command: ['run'],
      env: { AGENT_STAGE: 'research' },
      files: { inputs: '{"idea":"x"}', parameters: '{}', budget: '{}' },
      secretEnv: [],
      mounts: [],
      activeDeadlineSeconds: 30,
      automountServiceAccountToken: false,
      scratch: { tmpSizeLimit: '1Gi', homeSizeLimit: '256Mi', home: '/home/agent' },
    },
  );
  const fullJob = {
    ...built,
    metadata: { ...built.metadata, namespace: 'ns', uid: 'job-uid', resourceVersion: '7' },
    status: { active: 1, startTime: '2026-01-01T00:00:00Z', ready: 0, terminating: 0 },
  } as CachedJob;
  /** A Pod as the API server sends it: far more than the engine reads. */
  const fullPod = (phase: string, state: object, conditions: object[] = [], scheduled = true) =>
    ({
      metadata: {
        name: 'rb-research-1-abcde',
        namespace: 'ns',
        uid: 'pod-uid',
        resourceVersion: '9',
        labels: { ...built.metadata.labels, 'job-name': 'rb-research-1' },
        ownerReferences: [
          { apiVersion: 'batch/v1', kind: 'Job', name: 'rb-research-1', uid: 'job-uid', controller: true },
        ],
        finalizers: ['batch.kubernetes.io/job-tracking'],
      },
      spec: {
        ...(built.spec as { template: { spec: object } }).template.spec,
        ...(scheduled ? { nodeName: 'node-1' } : {}),
        tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' }],
      },
      status: {
        phase,
        conditions,
        hostIP: '10.0.0.1',
        podIP: '10.1.0.5',
        qosClass: 'BestEffort',
        containerStatuses: [
          {
            name: AGENT_CONTAINER,
            image: 'example.com/agent:1',
            imageID: 'docker-pullable://example.com/agent@sha256:' + 'a'.repeat(64),
            ready: false,
            restartCount: 0,
            lastState: {},
            state,
          },
        ],
      },
    }) as unknown as CachedPod;
  const pods = [
    fullPod('Succeeded', {
      terminated: { exitCode: 0, message: '{"outputs":{}}', finishedAt: '2026-01-01T00:01:00Z' },
    }),
    fullPod('Failed', { terminated: { exitCode: 1, reason: 'Error', finishedAt: '2026-01-01T00:01:00Z' } }),
    fullPod('Running', { running: { startedAt: '2026-01-01T00:00:05Z' } }),
    fullPod(
      'Pending',
      { waiting: { reason: 'ContainerCreating' } },
      [
        {
          type: 'PodScheduled',
          status: 'False',
          reason: 'Unschedulable',
          message: '0/1 nodes are available',
        },
      ],
      false,
    ),
  ];

  it('drops a Job’s spec (its Pod template) and a Pod’s fields the engine never reads', () => {
    expect(cachedJob(fullJob)).to.not.have.property('spec');
    expect(cachedJob(fullJob).status).to.deep.equal(fullJob.status);
    const pod = cachedPod(pods[0] as CachedPod);
    expect(pod.spec).to.deep.equal({
      nodeName: 'node-1',
      containers: [{ name: AGENT_CONTAINER, image: 'example.com/agent:1' }],
    });
    expect(Object.keys(pod.status?.containerStatuses?.[0] ?? {}).sort()).to.deep.equal([
      'imageID',
      'name',
      'state',
    ]);
    expect(JSON.stringify(cachedJob(fullJob)).length).to.be.below(JSON.stringify(fullJob).length / 2);
  });

  it('observes a trimmed Job and Pod exactly as the whole ones, in every phase', () => {
    for (const pod of pods) {
      expect(observeJob(cachedJob(fullJob), [cachedPod(pod)])).to.deep.equal(observeJob(fullJob, [pod]));
    }
    expect(observeJob(fullJob, [pods[3] as CachedPod])?.unschedulable).to.equal('0/1 nodes are available');
  });
});
