import { expect } from 'chai';
import { stringify } from 'yaml';
import type { AgentCatalog } from '../../src/api/catalog.js';
import { kubectl } from '../../hack/local-cluster/tools.js';
import { prodReviewPolicy, RunbookEnv, runbook } from '../support/runbook-env.js';
import { eventually } from '../support/eventually.js';

const CATALOG: AgentCatalog = { agents: [{ name: 'a', image: 'registry.example/agents/a:1' }] };

describe('gate decisions and cancel on a real control plane (webhook, RBAC)', function () {
  this.timeout(180_000);
  const env = new RunbookEnv('approve', CATALOG, { webhook: true });
  const gated = (name: string) =>
    env.apply(
      runbook(name, 'pipeline', [{ name: 'a' }], {
        quality: { gates: [{ name: 'review', required: true }] },
      }),
    );

  before(async () => {
    await env.start();
    // mallory and carol edit runbooks (no approve verb); alice and carol are bound to the approver
    // role, which changes no runbook.
    await env.grant(
      'runbook-editor',
      [
        {
          apiGroups: ['i2s.studio'],
          resources: ['agentrunbooks'],
          verbs: ['get', 'list', 'create', 'patch'],
        },
        { apiGroups: ['i2s.studio'], resources: ['gatedecisions'], verbs: ['create'] },
      ],
      ['mallory', 'carol'],
    );
    const approvers = ['alice', 'carol'].map((user) => ({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: `approver-${user}`, namespace: env.namespace },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'agentrunbook-approver' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
    }));
    const applied = await kubectl(
      env.plane.adminKubeconfigPath,
      ['apply', '-f', '-'],
      approvers.map((object) => stringify(object)).join('---\n'),
    );
    expect(applied.code, applied.stderr).to.equal(0);
  });

  after(async () => {
    await env.stop();
  });

  it('lets only a user with the approve verb decide, with a GateDecision the webhook records', async () => {
    await gated('needs-approval');
    await env.waitPhase('needs-approval', 'WaitingForApproval');
    const hint = (await env.condition('needs-approval', 'ApprovalPending'))?.message ?? '';
    expect(hint).to.contain(`agentrunbook approve needs-approval review -n ${env.namespace}`);

    const refused = await env.decide('needs-approval', 'review', { user: 'mallory' });
    expect(refused.code).to.not.equal(0);
    expect(refused.stderr).to.contain('user mallory may not decide gates').and.contain('verb approve');
    const legacy = await env.as('mallory', [
      'annotate',
      'arb',
      'needs-approval',
      'gates.i2s.studio/review=approved',
    ]);
    expect(legacy.stderr).to.contain('gates are decided with a GateDecision now');

    const approved = await env.decide('needs-approval', 'review', { user: 'alice', comment: 'looks right' });
    expect(approved.code, approved.stderr).to.equal(0);
    await env.waitPhase('needs-approval', 'Succeeded');
    const row = (await env.status('needs-approval')).gates?.[0] as Record<string, unknown>;
    expect(row).to.include({ phase: 'Approved', decidedBy: 'alice', generation: 1 });
    expect(row.decisions).to.have.nested.property('[0].comment', 'looks right');
    const recorded = await env.k(
      'get',
      'gatedecisions',
      '-l',
      'i2s.studio/runbook=needs-approval',
      '-o',
      'json',
    );
    const [decision] = (JSON.parse(recorded.stdout) as { items: { spec: Record<string, unknown> }[] }).items;
    expect(decision?.spec).to.include({ user: 'alice', generation: 1, decision: 'Approved' });
    const again = await env.decide('needs-approval', 'review', { user: 'alice' });
    expect(again.stderr).to.contain('waits for no decision: it was already approved by alice');
  });

  it('an approver cannot change a spec; an editor cannot remove a gate that waits, nor unmatch a policy', async () => {
    await gated('held');
    await env.waitPhase('held', 'WaitingForApproval');
    const rewrite = await env.as('alice', [
      'patch',
      'arb',
      'held',
      '--type=merge',
      '-p',
      '{"spec":{"description":"x"}}',
    ]);
    expect(rewrite.code).to.not.equal(0);
    expect(rewrite.stderr).to.contain('forbidden');
    const removed = await env.as('mallory', [
      'patch',
      'arb',
      'held',
      '--type=json',
      '-p',
      '[{"op":"remove","path":"/spec/quality"}]',
    ]);
    expect(removed.code).to.not.equal(0);
    expect(removed.stderr).to.contain('removing or changing gate review is as good as deciding it');

    await env.apply(prodReviewPolicy(env.namespace));
    const prod = runbook('prod', 'pipeline', [{ name: 'a' }]) as { metadata: Record<string, unknown> };
    prod.metadata.labels = { tier: 'prod' };
    const created = await env.as('carol', ['create', '-f', '-'], stringify(prod));
    expect(created.code, created.stderr).to.equal(0);
    await env.waitPhase('prod', 'WaitingForApproval');
    expect((await env.status('prod')).gates?.[0]).to.include({
      name: 'prod-signoff',
      policy: 'GatePolicy/prod-review',
    });
    const unlabel = await env.as('mallory', ['label', 'arb', 'prod', 'tier-']);
    expect(unlabel.stderr).to.contain('making GatePolicy/prod-review stop matching this runbook');
    const byAuthor = await env.decide('prod', 'prod-signoff', { user: 'carol' });
    expect(byAuthor.stderr).to.contain('carol last changed the spec, and the gate forbids its author');
    const byOther = await env.decide('prod', 'prod-signoff', { user: 'alice' });
    expect(byOther.code, byOther.stderr).to.equal(0);
    await env.waitPhase('prod', 'Succeeded');
  });

  it('a spec change starts a run that waits again, and a rejection fails it GateRejected', async () => {
    await gated('changes');
    await env.approve('changes', 'review');
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
    await env.waitPhase('changes', 'WaitingForApproval');
    const rejected = await env.decide('changes', 'review', { user: 'alice', decision: 'Rejected' });
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
