import { expect } from 'chai';
import type { Json } from '../../../src/api/json.js';
import { reviewDecision } from '../../../src/webhook/gate-decisions.js';
import { reviewRunbookWrite } from '../../../src/webhook/runbook-author.js';
import { gateChangeRefusal } from '../../../src/webhook/gate-changes.js';
import { gatePolicyProblems } from '../../../src/webhook/gate-policy-checks.js';
import type { AccessRequest } from '../../../src/webhook/requester.js';

interface Answer {
  response: { allowed: boolean; patch?: string; status?: { code: number; message: string } };
}

const patchOf = (answer: Json) => {
  const { patch } = (answer as unknown as Answer).response;
  return patch
    ? (JSON.parse(Buffer.from(patch, 'base64').toString()) as { op: string; path: string; value?: unknown }[])
    : [];
};
const responseOf = (answer: Json) => (answer as unknown as Answer).response;

const admission = (request: Record<string, unknown>) => ({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: {
    uid: 'u1',
    namespace: 'team',
    userInfo: { username: 'bob', groups: ['reviewers', 'system:authenticated'] },
    ...request,
  },
});

const runbook = (gate: Record<string, unknown>, author = 'alice') => ({
  metadata: {
    name: 'rb',
    namespace: 'team',
    uid: 'uid-rb',
    generation: 3,
    annotations: { 'i2s.studio/author': author },
  },
  spec: {},
  status: { observedGeneration: 3, gates: [{ name: 'review', ...gate }] },
});

const decision = (spec: Record<string, unknown> = {}) =>
  admission({
    operation: 'CREATE',
    object: {
      metadata: { generateName: 'rb-review-' },
      spec: { runbook: 'rb', gate: 'review', decision: 'Approved', ...spec },
    },
  });

describe('GateDecision admission (/decide)', () => {
  const asked: AccessRequest[] = [];
  const deps = (target: unknown, allowed = true) => ({
    authorize: (request: AccessRequest) => {
      asked.push(request);
      return Promise.resolve({ allowed, ...(allowed ? {} : { reason: 'no RBAC rule' }) });
    },
    read: () => Promise.resolve(target as Json | undefined),
  });
  beforeEach(() => {
    asked.length = 0;
  });

  it('records who decided, for which generation, with labels and the runbook as owner', async () => {
    const answer = await reviewDecision(
      decision({ user: 'mallory' }),
      deps(runbook({ phase: 'Pending', since: 't' })),
    );
    expect(responseOf(answer).allowed).to.equal(true);
    expect(asked[0]?.attributes).to.deep.equal({
      verb: 'approve',
      group: 'i2s.studio',
      resource: 'agentrunbooks',
      namespace: 'team',
      name: 'rb',
    });
    const patch = patchOf(answer);
    expect(patch).to.deep.include({ op: 'add', path: '/spec/user', value: 'bob' });
    expect(patch).to.deep.include({ op: 'add', path: '/spec/generation', value: 3 });
    expect(patch).to.deep.include({
      op: 'add',
      path: '/metadata/ownerReferences',
      value: [{ apiVersion: 'i2s.studio/v2', kind: 'AgentRunbook', name: 'rb', uid: 'uid-rb' }],
    });
  });

  it('refuses a user without the approve verb, naming the verb and the role', async () => {
    const answer = responseOf(
      await reviewDecision(decision(), deps(runbook({ phase: 'Pending', since: 't' }), false)),
    );
    expect(answer.allowed).to.equal(false);
    expect(answer.status?.code).to.equal(403);
    expect(answer.status?.message).to.contain('needs the verb approve').and.contain('agentrunbook-approver');
  });

  it('refuses the author on a four-eyes gate, and a user outside the approver groups', async () => {
    const fourEyes = runbook({ phase: 'Pending', since: 't', approvals: { excludeAuthor: true } }, 'bob');
    const refused = responseOf(await reviewDecision(decision(), deps(fourEyes)));
    expect(refused.status?.message).to.contain('bob last changed the spec');
    const grouped = runbook({ phase: 'Pending', since: 't', approvals: { groups: ['security'] } });
    const outside = responseOf(await reviewDecision(decision(), deps(grouped)));
    expect(outside.status?.message).to.contain("in none of the gate's approver groups (security)");
  });

  it('refuses a gate that waits for nothing, a stale generation, a missing runbook or gate', async () => {
    const message = async (target: unknown, spec: Record<string, unknown> = {}) =>
      responseOf(await reviewDecision(decision(spec), deps(target))).status?.message ?? '';
    expect(await message(runbook({ phase: 'Pending' }))).to.contain('has not been reached yet');
    expect(await message(runbook({ phase: 'Approved', decidedBy: 'carol' }))).to.contain(
      'already approved by carol',
    );
    expect(await message(runbook({ phase: 'Pending', since: 't' }), { generation: 2 })).to.contain(
      'you decided on generation 2, its spec is now generation 3',
    );
    expect(await message(undefined)).to.contain('agentrunbook team/rb does not exist');
    expect(await message(runbook({ phase: 'Pending', since: 't' }), { gate: 'other' })).to.contain(
      'has no gate other (its gates: review)',
    );
    expect(asked, 'no access check for a decision refused before it').to.have.length(0);
  });
});

describe('runbook writes (/mutate): the author', () => {
  const write = (operation: string, object: unknown, oldObject?: unknown, user = 'alice') =>
    reviewRunbookWrite({
      request: {
        uid: 'u',
        operation,
        userInfo: { username: user },
        object,
        ...(oldObject ? { oldObject } : {}),
      },
    });
  const rb = (spec: Record<string, unknown>, annotations?: Record<string, string>) => ({
    metadata: { name: 'rb', ...(annotations ? { annotations } : {}) },
    spec,
  });

  it('records the creator, whatever the request said', () => {
    expect(patchOf(write('CREATE', rb({ a: 1 }, { 'i2s.studio/author': 'mallory' })))).to.deep.equal([
      { op: 'add', path: '/metadata/annotations/i2s.studio~1author', value: 'alice' },
    ]);
    expect(patchOf(write('CREATE', rb({ a: 1 })))).to.deep.equal([
      { op: 'add', path: '/metadata/annotations', value: { 'i2s.studio/author': 'alice' } },
    ]);
  });

  it('a spec change makes its requester the author; suspending or an annotation does not', () => {
    const old = rb({ a: 1 }, { 'i2s.studio/author': 'alice' });
    expect(
      patchOf(write('UPDATE', rb({ a: 2 }, { 'i2s.studio/author': 'alice' }), old, 'bob')),
    ).to.deep.equal([{ op: 'add', path: '/metadata/annotations/i2s.studio~1author', value: 'bob' }]);
    expect(
      patchOf(write('UPDATE', rb({ a: 1, suspend: true }, { 'i2s.studio/author': 'alice' }), old, 'bob')),
    ).to.deep.equal([]);
    expect(
      patchOf(write('UPDATE', rb({ a: 1 }, { 'i2s.studio/author': 'bob' }), old, 'bob')),
      'a forged author is put back',
    ).to.deep.equal([{ op: 'add', path: '/metadata/annotations/i2s.studio~1author', value: 'alice' }]);
  });

  it('refuses a gate decided by annotation, pointing to the GateDecision', () => {
    const answer = responseOf(
      write('UPDATE', rb({ a: 1 }, { 'gates.i2s.studio/review': 'approved' }), rb({ a: 1 })),
    );
    expect(answer.allowed).to.equal(false);
    expect(answer.status?.message).to.contain('agentrunbook approve|reject <runbook> review');
  });
});

describe('changing gates needs the approve verb', () => {
  const update = (oldGates: unknown[], gates: unknown[]) => ({
    operation: 'UPDATE',
    namespace: 'team',
    name: 'rb',
    userInfo: { username: 'eve' },
    object: { spec: { quality: { gates } } },
    oldObject: { spec: { quality: { gates: oldGates } } },
  });
  const deny = () => Promise.resolve({ allowed: false });
  const nothing = () => Promise.resolve(undefined);

  it('refuses removing or changing a gate to a user who may not approve; adding one is free', async () => {
    const review = { name: 'review', required: true };
    expect(await gateChangeRefusal(update([review], []), deny, nothing)).to.contain(
      'removing or changing gate review',
    );
    expect(
      await gateChangeRefusal(update([review], [{ ...review, required: false }]), deny, nothing),
    ).to.contain('gate review');
    expect(
      await gateChangeRefusal(update([review], [review, { name: 'more', required: true }]), deny, nothing),
    ).to.equal(undefined);
    expect(
      await gateChangeRefusal(update([review], []), () => Promise.resolve({ allowed: true }), nothing),
    ).to.equal(undefined);
  });
});

describe('gate policy checks', () => {
  it('refuses a condition that does not compile, naming the field', () => {
    const problems = gatePolicyProblems({
      object: { spec: { match: { condition: 'riskLevel >' }, gates: [{ name: 'g', condition: 'nope(' }] } },
    });
    expect(problems.map((problem) => problem.field)).to.deep.equal([
      'spec.match.condition',
      'spec.gates[0].condition',
    ]);
  });
});
