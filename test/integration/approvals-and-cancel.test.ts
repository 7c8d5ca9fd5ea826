import { expect } from 'chai';
import { stringify } from 'yaml';
import type { AgentCatalog } from '../../src/api/catalog.js';
import { kubectl } from '../../hack/local-cluster/tools.js';
import { RunbookEnv, runbook } from '../support/runbook-env.js';
import { eventually } from '../support/eventually.js';

const CATALOG: AgentCatalog = { agents: [{ name: 'a', image: 'registry.example/agents/a:1' }] };

describe('gate decisions and cancel on a real control plane (webhook, RBAC)', function () {
  this.timeout(180_000);
  const env = new RunbookEnv('approve', CATALOG, { webhook: true });
  /** kubectl as another user (the admin kubeconfig may impersonate). */
  const as = (user: string, ...args: string[]) =>
    kubectl(env.plane.adminKubeconfigPath, ['--as', user, '-n', env.namespace, ...args]);
  const gated = (name: string) =>
    env.apply(
      runbook(name, 'pipeline', [{ name: 'a' }], {
        quality: { gates: [{ name: 'review', required: true }] },
      }),
    );

  before(async () => {
    await env.start();
    // Both may read and annotate runbooks in the namespace; only alice is bound to the approver role.
    const rbac = [
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: 'runbook-editor', namespace: env.namespace },
        rules: [{ apiGroups: ['i2s.studio'], resources: ['agentrunbooks'], verbs: ['get', 'list', 'patch'] }],
      },
      ...['alice', 'mallory'].map((user) => ({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: `editor-${user}`, namespace: env.namespace },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'runbook-editor' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
      })),
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'approver-alice', namespace: env.namespace },
        roleRef: {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'ClusterRole',
          name: 'agentrunbook-approver',
        },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'alice' }],
      },
    ];
    const applied = await kubectl(
      env.plane.adminKubeconfigPath,
      ['apply', '-f', '-'],
      rbac.map((object) => stringify(object)).join('---\n'),
    );
    expect(applied.code, applied.stderr).to.equal(0);
  });

  after(async () => {
    await env.stop();
  });

  it('lets only a user with the approve verb decide, and records who did for which generation', async () => {
    await gated('needs-approval');
    await env.waitPhase('needs-approval', 'WaitingForApproval');
    const hint = (await env.condition('needs-approval', 'ApprovalPending'))?.message ?? '';
    expect(hint).to.contain(
      `kubectl annotate agentrunbook needs-approval -n ${env.namespace} gates.i2s.studio/review=approved --overwrite`,
    );

    const refused = await as(
      'mallory',
      'annotate',
      'arb',
      'needs-approval',
      'gates.i2s.studio/review=approved',
    );
    expect(refused.code).to.not.equal(0);
    expect(refused.stderr).to.contain('user mallory may not decide gates').and.contain('verb approve');
    const forged = await as(
      'mallory',
      'annotate',
      'arb',
      'needs-approval',
      'decisions.gates.i2s.studio/review={"decision":"approved","generation":1,"user":"alice","time":"2026-01-01T00:00:00Z"}',
    );
    expect(forged.code).to.not.equal(0);
    expect(forged.stderr).to.contain('written only by the webhook');

    const approved = await as(
      'alice',
      'annotate',
      'arb',
      'needs-approval',
      'gates.i2s.studio/review=approved',
    );
    expect(approved.code, approved.stderr).to.equal(0);
    await env.waitPhase('needs-approval', 'Succeeded');
    expect((await env.status('needs-approval')).gates?.[0]).to.include({
      phase: 'Approved',
      decidedBy: 'alice',
      generation: 1,
    });
  });

  it('needs a new decision after a spec change, and fails GateRejected on a rejection', async () => {
    await gated('changes');
    await env.waitPhase('changes', 'WaitingForApproval');
    const approved = await as('alice', 'annotate', 'arb', 'changes', 'gates.i2s.studio/review=approved');
    expect(approved.code, approved.stderr).to.equal(0);
    await env.waitPhase('changes', 'Succeeded');
    const patched = await env.k(
      'patch',
      'arb',
      'changes',
      '--type=merge',
      '-p',
      '{"spec":{"description":"v2"}}',
    );
    expect(patched.code, patched.stderr).to.equal(0);
    const annotations = await env.k('get', 'arb', 'changes', '-o', 'jsonpath={.metadata.annotations}');
    expect(annotations.stdout).to.not.contain('gates.i2s.studio/review');
    await env.waitPhase('changes', 'WaitingForApproval');
    const rejected = await as('alice', 'annotate', 'arb', 'changes', 'gates.i2s.studio/review=rejected');
    expect(rejected.code, rejected.stderr).to.equal(0);
    await env.waitPhase('changes', 'Failed');
    expect(await env.condition('changes', 'Failed')).to.include({ reason: 'GateRejected' });
    expect((await env.status('changes')).gates?.[0]).to.include({ decidedBy: 'alice', generation: 2 });
  });

  it('cancels a run with spec.status Cancelled: Jobs deleted, phase Cancelled, Event; removing it reruns', async () => {
    env.script = () => 'hold';
    await env.apply(runbook('to-cancel', 'pipeline', [{ name: 'a' }]));
    await eventually(() => {
      expect(env.held('to-cancel')).to.have.length(1);
      return Promise.resolve();
    });
    const cancel = await env.k(
      'patch',
      'arb',
      'to-cancel',
      '--type=merge',
      '-p',
      '{"spec":{"status":"Cancelled"}}',
    );
    expect(cancel.code, cancel.stderr).to.equal(0);
    await env.waitPhase('to-cancel', 'Cancelled');
    await env.waitJobsGone('i2s.studio/runbook=to-cancel');
    expect(await env.condition('to-cancel', 'Cancelled')).to.include({
      status: 'True',
      reason: 'RunCancelled',
    });
    expect(await env.eventCount('to-cancel', 'RunCancelled')).to.equal(1);

    env.script = () => ({ phase: 'Succeeded', exitCode: 0, message: JSON.stringify({ outputs: {} }) });
    const resume = await env.k(
      'patch',
      'arb',
      'to-cancel',
      '--type=json',
      '-p',
      '[{"op":"remove","path":"/spec/status"}]',
    );
    expect(resume.code, resume.stderr).to.equal(0);
    await env.waitPhase('to-cancel', 'Succeeded');
    expect((await env.status('to-cancel')).execution).to.equal('g3');
  });
});
