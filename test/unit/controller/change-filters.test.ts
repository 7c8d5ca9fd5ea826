import { expect } from 'chai';
import { jobChanged, podChanged, runbookChanged } from '../../../src/controller/change-filters.js';
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
