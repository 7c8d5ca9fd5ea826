import { expect } from 'chai';
import type { SpecV2 } from '../../../../src/api/v2/runbook.js';
import type { GatePolicyRecord } from '../../../../src/engine/spec/gate-policies.js';
import { policyMatches, selectorMatches } from '../../../../src/engine/spec/gate-policies.js';
import { decideGate, EngineHarness, runbookOf, spec } from '../../../support/engine-harness.js';

type Gate = NonNullable<NonNullable<SpecV2['quality']>['gates']>[number];

function gated(gates: Gate[], author = 'alice'): EngineHarness {
  const runbook = runbookOf(
    spec({
      context: { riskLevel: 9 },
      quality: { gates },
      stages: [{ name: 'a' }, { name: 'b', dependsOn: ['a'] }],
    }),
  );
  runbook.metadata.annotations = { 'i2s.studio/author': author };
  return new EngineHarness(runbook);
}

const policy = (
  name: string,
  gates: Gate[],
  match: GatePolicyRecord['spec']['match'] = {},
  kind: GatePolicyRecord['kind'] = 'GatePolicy',
): GatePolicyRecord => ({ kind, name, spec: { match, gates } });

describe('approvals: how many, by whom', () => {
  it('needs as many different users as the gate counts; one user approving twice is one approval', () => {
    const h = gated([{ name: 'review', required: true, approvals: { count: 2 } }]);
    h.step();
    decideGate(h, 'review', 'Approved', { user: 'bob' });
    decideGate(h, 'review', 'Approved', { user: 'bob', comment: 'again' });
    expect(h.step().create).to.deep.equal([]);
    expect(h.runbook.status?.gates?.[0]).to.include({ phase: 'Pending', approved: 1 });
    expect(h.runbook.status?.gates?.[0]?.message).to.contain('2 approvals (1 so far)');
    decideGate(h, 'review', 'Approved', { user: 'carol', comment: 'fine by me' });
    expect(h.step().create.map((plan) => plan.stage)).to.deep.equal(['a']);
    const row = h.runbook.status?.gates?.[0];
    expect(row).to.include({ phase: 'Approved', decidedBy: 'bob, carol', approved: 2 });
    expect(row?.decisions?.map((decision) => [decision.user, decision.comment])).to.deep.equal([
      ['bob', 'again'],
      ['carol', 'fine by me'],
    ]);
  });

  it('four eyes: the author approving does not count, another user does', () => {
    const h = gated([{ name: 'review', required: true, approvals: { excludeAuthor: true } }], 'alice');
    h.step();
    decideGate(h, 'review', 'Approved', { user: 'alice' });
    expect(h.step().create).to.deep.equal([]);
    expect(h.runbook.status?.gates?.[0]?.message).to.contain(
      'alice last changed the spec, and the gate forbids its author from deciding it',
    );
    decideGate(h, 'review', 'Approved', { user: 'bob' });
    expect(h.step().create.map((plan) => plan.stage)).to.deep.equal(['a']);
  });

  it('four eyes with no recorded author counts nobody (fails closed)', () => {
    const h = gated([{ name: 'review', required: true, approvals: { excludeAuthor: true } }]);
    h.runbook.metadata.annotations = {};
    h.step();
    decideGate(h, 'review', 'Approved', { user: 'bob' });
    expect(h.step().create).to.deep.equal([]);
    expect(h.runbook.status?.gates?.[0]?.message).to.contain('no recorded author');
  });

  it('approver groups: only a member counts', () => {
    const h = gated([{ name: 'review', required: true, approvals: { groups: ['security'] } }]);
    h.step();
    decideGate(h, 'review', 'Approved', { user: 'bob', groups: ['dev'] });
    expect(h.step().create).to.deep.equal([]);
    decideGate(h, 'review', 'Approved', { user: 'carol', groups: ['security'] });
    expect(h.step().create.map((plan) => plan.stage)).to.deep.equal(['a']);
  });

  it('keeps a gate Approved after the stage it guards has run, and the run ends Succeeded', () => {
    const h = gated([{ name: 'signoff', required: true, before: 'b' }]);
    h.step();
    h.succeed('a');
    h.step();
    decideGate(h, 'signoff', 'Approved', { user: 'bob' });
    h.step();
    h.succeed('b');
    h.step();
    expect(h.phase).to.equal('Succeeded');
    expect(h.runbook.status?.gates?.[0]).to.include({ phase: 'Approved', decidedBy: 'bob' });
  });

  it('one rejection rejects the gate, whatever approvals there are', () => {
    const h = gated([{ name: 'review', required: true, approvals: { count: 2 } }]);
    h.step();
    decideGate(h, 'review', 'Approved', { user: 'bob' });
    decideGate(h, 'review', 'Rejected', { user: 'carol', comment: 'no tests' });
    h.step();
    expect(h.condition('Failed')).to.include({ reason: 'GateRejected' });
    expect(h.condition('Failed')?.message).to.contain('rejected by carol');
  });
});

describe('gate policies', () => {
  it('adds its gates to a runbook with none, and the run waits for them', () => {
    const h = gated([]);
    h.gatePolicies = [policy('security', [{ name: 'security-review', required: true, before: 'b' }])];
    expect(h.step().create.map((plan) => plan.stage)).to.deep.equal(['a']);
    h.succeed('a');
    expect(h.step().create).to.deep.equal([]);
    expect(h.phase).to.equal('WaitingForApproval');
    expect(h.runbook.status?.gates?.[0]).to.include({
      name: 'security-review',
      policy: 'GatePolicy/security',
      phase: 'Pending',
    });
    decideGate(h, 'security-review', 'Approved', { user: 'bob' });
    expect(h.step().create.map((plan) => plan.stage)).to.deep.equal(['b']);
  });

  it("replaces the spec's gate of the same name, so the author cannot weaken it", () => {
    const h = gated([{ name: 'review', condition: 'riskLevel > 100' }]);
    h.gatePolicies = [policy('strict', [{ name: 'review', required: true, approvals: { count: 2 } }])];
    h.step();
    expect(h.runbook.status?.gates).to.have.length(1);
    expect(h.runbook.status?.gates?.[0]).to.include({ phase: 'Pending', policy: 'GatePolicy/strict' });
  });

  it('a policy gate before a stage the runbook lacks guards the start of the run (fails closed)', () => {
    const h = gated([]);
    h.gatePolicies = [policy('deploys', [{ name: 'deploy-review', required: true, before: 'deploy' }])];
    expect(h.step().create).to.deep.equal([]);
    expect(h.phase).to.equal('WaitingForApproval');
  });

  it('holds the run when policies add more gates than a runbook may have', () => {
    const h = gated([]);
    h.gatePolicies = Array.from({ length: 9 }, (_, index) =>
      policy(
        `p${index}`,
        Array.from({ length: 8 }, (_, gate) => ({ name: `g${index}-${gate}`, condition: 'riskLevel > 100' })),
      ),
    );
    expect(h.step().create).to.deep.equal([]);
    expect(h.condition('ApprovalPending')?.message).to.contain('8 gates past the 64');
  });

  it('matches by namespace, labels, agents used and condition', () => {
    const runbookSpec = spec({ context: { riskLevel: 8 }, stages: [{ name: 'a', agent: 'deployer' }] });
    const subject = { namespace: 'team', labels: { tier: 'prod' }, spec: runbookSpec };
    const matches = (match: GatePolicyRecord['spec']['match']) =>
      policyMatches(policy('p', [{ name: 'g', required: true }], match, 'ClusterGatePolicy'), subject);
    expect(matches({})).to.equal(true);
    expect(matches({ namespaces: ['team'] })).to.equal(true);
    expect(matches({ namespaces: ['other'] })).to.equal(false);
    expect(matches({ runbookSelector: { matchLabels: { tier: 'prod' } } })).to.equal(true);
    expect(matches({ runbookSelector: { matchLabels: { tier: 'dev' } } })).to.equal(false);
    expect(matches({ agents: ['deployer'] })).to.equal(true);
    expect(matches({ agents: ['researcher'] })).to.equal(false);
    expect(matches({ condition: 'riskLevel >= 7' })).to.equal(true);
    expect(matches({ condition: 'riskLevel >= 9' })).to.equal(false);
    expect(matches({ condition: 'context.nothing > 1' }), 'an error matches (fails closed)').to.equal(true);
  });

  it('label selectors as Kubernetes reads them', () => {
    const labels = { tier: 'prod', team: 'a' };
    expect(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['prod'] }] }, labels))
      .to.be.true;
    expect(
      selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['prod'] }] }, labels),
    ).to.be.false;
    expect(selectorMatches({ matchExpressions: [{ key: 'x', operator: 'NotIn', values: ['prod'] }] }, labels))
      .to.be.true;
    expect(selectorMatches({ matchExpressions: [{ key: 'team', operator: 'Exists' }] }, labels)).to.be.true;
    expect(selectorMatches({ matchExpressions: [{ key: 'team', operator: 'DoesNotExist' }] }, labels)).to.be
      .false;
  });
});
