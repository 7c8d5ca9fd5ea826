import { expect } from 'chai';
import {
  jobAppeared,
  jobChanged,
  podChanged,
  runbookChanged,
} from '../../../src/controller/change-filters.js';
import type { JobObservation } from '../../../src/engine/model/types.js';
import type { AgentRunbookJson, JobJson, PodJson } from '../../../src/kube/types.js';

const runbook = (extra: Partial<AgentRunbookJson['metadata']> = {}, phase = 'Running') =>
  ({
    metadata: { name: 'rb', namespace: 'ns', generation: 1, resourceVersion: '1', ...extra },
    spec: { version: '1.0.0', agents: {} },
    status: { phase },
  }) as unknown as AgentRunbookJson;

describe('which watch updates are worth a reconcile', () => {
  it('runbooks: a new generation, annotation or deletion; not the operator’s own status write', () => {
    const old = runbook();
    expect(runbookChanged(runbook({ resourceVersion: '2' }, 'Succeeded'), old)).to.equal(false);
    expect(runbookChanged(runbook({ generation: 2 }), old)).to.equal(true);
    expect(runbookChanged(runbook({ annotations: { 'gates.i2s.studio/review': 'approved' } }), old)).to.equal(
      true,
    );
    expect(runbookChanged(runbook({ deletionTimestamp: '2026-01-01T00:00:00Z' }), old)).to.equal(true);
  });

  it('Jobs: a change of status; not a resourceVersion-only update', () => {
    const job = (status: JobJson['status'], resourceVersion = '1'): JobJson => ({
      metadata: { name: 'j', resourceVersion },
      status,
    });
    expect(jobChanged(job({ active: 1 }, '2'), job({ active: 1 }))).to.equal(false);
    expect(
      jobChanged(job({ conditions: [{ type: 'Complete', status: 'True' }] }), job({ active: 1 })),
    ).to.equal(true);
  });

  /** A Job just created: active, no Pod yet. */
  const created: JobObservation = {
    name: 'rb-plan-e1-1',
    stage: 'plan',
    execution: 'e1',
    generation: 1,
    attempt: 1,
    state: 'active',
    podTerminated: false,
  };

  it('a Job that appears: not the one its runbook’s status already runs, while it has no Pod', () => {
    const running = (stages: { name: string; phase: string; job?: string }[], execution = 'e1') =>
      ({ ...runbook(), status: { phase: 'Running', execution, stages } }) as unknown as AgentRunbookJson;
    const runsIt = running([{ name: 'plan', phase: 'Running', job: created.name }]);
    expect(jobAppeared(created, runsIt)).to.equal(false);
    // Anything more than that it exists, or a status that does not run it, is news.
    expect(jobAppeared({ ...created, pod: 'rb-plan-e1-1-abcde' }, runsIt)).to.equal(true);
    expect(jobAppeared({ ...created, state: 'succeeded' }, runsIt)).to.equal(true);
    expect(jobAppeared(created, running([{ name: 'plan', phase: 'Failed', job: created.name }]))).to.equal(
      true,
    );
    expect(jobAppeared(created, running([{ name: 'plan', phase: 'Running', job: 'rb-plan-e1-2' }]))).to.equal(
      true,
    );
    expect(
      jobAppeared(created, running([{ name: 'plan', phase: 'Running', job: created.name }], 'e2')),
    ).to.equal(true);
    expect(jobAppeared(created, runbook())).to.equal(true);
    expect(jobAppeared(created, undefined)).to.equal(true);
    expect(jobAppeared(undefined, runsIt)).to.equal(true);
  });

  it('a Job that appears: not one the operator created and waits for, unless the status is of another run', () => {
    const pending = (execution?: string) =>
      ({
        ...runbook(),
        status: {
          phase: 'Running',
          ...(execution ? { execution } : {}),
          stages: [{ name: 'plan', phase: 'Pending' }],
        },
      }) as unknown as AgentRunbookJson;
    // The status that runs it was written with it and is not in the cache yet.
    expect(jobAppeared(created, pending('e1'), true)).to.equal(false);
    expect(jobAppeared(created, runbook(), true)).to.equal(false);
    expect(jobAppeared(created, undefined, true)).to.equal(false);
    expect(jobAppeared(created, pending('e1'), false)).to.equal(true);
    // The spec changed since: the new run's reconcile may not have seen it, so it is news.
    expect(jobAppeared(created, pending('e2'), true)).to.equal(true);
    // A Job that already says more than that it exists is news either way.
    expect(jobAppeared({ ...created, state: 'failed' }, pending('e1'), true)).to.equal(true);
    expect(jobAppeared({ ...created, pod: 'rb-plan-e1-1-abcde' }, pending('e1'), true)).to.equal(true);
  });

  it('Pods: phase or a container’s state; not other status churn', () => {
    const pod = (phase: string, terminated?: { exitCode: number }, resourceVersion = '1'): PodJson => ({
      metadata: { name: 'p', resourceVersion },
      status: {
        phase,
        containerStatuses: [{ name: 'agent', state: terminated ? { terminated } : { running: {} } }],
      },
    });
    expect(podChanged(pod('Running', undefined, '2'), pod('Running'))).to.equal(false);
    expect(podChanged(pod('Running', { exitCode: 0 }), pod('Running'))).to.equal(true);
    expect(podChanged(pod('Succeeded', { exitCode: 0 }), pod('Running', { exitCode: 0 }))).to.equal(true);
  });
});
