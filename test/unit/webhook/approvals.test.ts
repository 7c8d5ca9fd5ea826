import { expect } from 'chai';
import { reviewApproval } from '../../../src/webhook/approvals.js';
import type { AccessRequest } from '../../../src/webhook/requester.js';

const NOW = new Date('2026-11-24T10:00:00Z');
const spec = { version: '1.0.0', agents: { pipeline: [{ name: 'a' }] } };

const object = (annotations: Record<string, string>, generation = 3, specOf: object = spec) => ({
  metadata: { name: 'rb', namespace: 'team', generation, annotations },
  spec: specOf,
});

const review = (next: object, old?: object) => ({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: {
    uid: 'u1',
    operation: old ? 'UPDATE' : 'CREATE',
    namespace: 'team',
    userInfo: { username: 'alice', groups: ['approvers', 'system:authenticated'] },
    object: next,
    ...(old ? { oldObject: old } : {}),
  },
});

interface Answer {
  response: { allowed: boolean; patch?: string; status?: { code: number; message: string } };
}

const patchOf = (answer: Answer) =>
  answer.response.patch
    ? (JSON.parse(Buffer.from(answer.response.patch, 'base64').toString()) as unknown[])
    : [];

describe('gate decisions at admission (/mutate)', () => {
  const asked: AccessRequest[] = [];
  const allow = (allowed: boolean) => (request: AccessRequest) => {
    asked.push(request);
    return Promise.resolve({ allowed, ...(allowed ? {} : { reason: 'no RBAC rule' }) });
  };

  beforeEach(() => {
    asked.length = 0;
  });

  it('records who approved, for the generation they saw, after RBAC allows the approve verb', async () => {
    const answer = (await reviewApproval(
      review(object({ 'gates.i2s.studio/review': 'approved' }), object({})),
      allow(true),
      NOW,
    )) as unknown as Answer;
    expect(answer.response.allowed).to.equal(true);
    expect(asked).to.deep.equal([
      {
        user: 'alice',
        groups: ['approvers', 'system:authenticated'],
        attributes: {
          verb: 'approve',
          group: 'i2s.studio',
          resource: 'agentrunbooks',
          namespace: 'team',
          name: 'rb',
        },
      },
    ]);
    expect(patchOf(answer)).to.deep.equal([
      {
        op: 'add',
        path: '/metadata/annotations/decisions.gates.i2s.studio~1review',
        value: JSON.stringify({
          decision: 'approved',
          generation: 3,
          user: 'alice',
          time: '2026-11-24T10:00:00Z',
        }),
      },
    ]);
  });

  it('refuses a decision by a user without the approve verb, naming the verb and the role', async () => {
    const answer = (await reviewApproval(
      review(object({ 'gates.i2s.studio/review': 'rejected' }), object({})),
      allow(false),
      NOW,
    )) as unknown as Answer;
    expect(answer.response.allowed).to.equal(false);
    expect(answer.response.status?.code).to.equal(403);
    expect(answer.response.status?.message)
      .to.contain('metadata.annotations.gates.i2s.studio/review')
      .and.contain('user alice may not decide gates of agentrunbook team/rb')
      .and.contain('verb approve')
      .and.contain('agentrunbook-approver');
  });

  it('refuses a decision record written by hand', async () => {
    const answer = (await reviewApproval(
      review(
        object({
          'gates.i2s.studio/review': 'approved',
          'decisions.gates.i2s.studio/review':
            '{"decision":"approved","generation":3,"user":"boss","time":"x"}',
        }),
        object({ 'gates.i2s.studio/review': 'approved' }),
      ),
      allow(true),
      NOW,
    )) as unknown as Answer;
    expect(answer.response.allowed).to.equal(false);
    expect(answer.response.status?.message).to.contain('written only by the webhook');
    expect(asked).to.deep.equal([]);
  });

  it('removes the decisions of the old spec when the spec changes, and refuses a decision made with it', async () => {
    const decided = {
      'gates.i2s.studio/review': 'approved',
      'decisions.gates.i2s.studio/review': '{}',
      'team.example/other': 'kept',
    };
    const changed = { ...spec, description: 'new' };
    const stripped = (await reviewApproval(
      review(object(decided, 3, changed), object(decided)),
      allow(true),
      NOW,
    )) as unknown as Answer;
    expect(stripped.response.allowed).to.equal(true);
    expect(patchOf(stripped)).to.deep.equal([
      { op: 'remove', path: '/metadata/annotations/gates.i2s.studio~1review' },
      { op: 'remove', path: '/metadata/annotations/decisions.gates.i2s.studio~1review' },
    ]);
    const together = (await reviewApproval(
      review(object({ 'gates.i2s.studio/review': 'approved' }, 3, changed), object({})),
      allow(true),
      NOW,
    )) as unknown as Answer;
    expect(together.response.allowed).to.equal(false);
    expect(together.response.status?.message).to.contain('decide in a request of its own');
  });

  it('lets every other change through untouched, without asking RBAC', async () => {
    const answer = (await reviewApproval(
      review(object({ 'i2s.studio/rerun': '2' }), object({})),
      allow(false),
      NOW,
    )) as unknown as Answer;
    expect(answer.response).to.deep.equal({ uid: 'u1', allowed: true });
    expect(asked).to.deep.equal([]);
  });
});
