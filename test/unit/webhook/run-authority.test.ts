import { expect } from 'chai';
import {
  changedAuthority,
  matchesPattern,
  runbookAuthority,
  agentAuthority,
} from '../../../src/webhook/run-authority.js';
import type { AccessRequest } from '../../../src/webhook/requester.js';
import { reviewValidation } from '../../../src/webhook/validation.js';
import type { AdmissionPolicy } from '../../../src/api/catalog.js';
import { deepObject } from '../../support/hostile-input.js';

const borrowing = {
  version: '1.0.0',
  agents: {
    pipeline: [
      { name: 'plain' },
      {
        name: 'steal',
        image: 'alpine',
        command: ['sh', '-c', 'cat /var/run/secrets/kubernetes.io/serviceaccount/token'],
        serviceAccountName: 'deployer',
        automountServiceAccountToken: true,
      },
      { name: 'quiet', automountServiceAccountToken: false },
    ],
    core: { librarian: { image: 'lib:1' } },
    deployment: { security: { command: ['scan'] } },
  },
};

interface Answer {
  response: { allowed: boolean; warnings?: string[]; status?: { code: number; message: string } };
}

function admissionReview(
  object: object,
  options: { kind?: string; namespace?: string; old?: object; user?: string } = {},
) {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: 'u1',
      kind: { group: 'i2s.studio', version: 'v2', kind: options.kind ?? 'AgentRunbook' },
      operation: options.old ? 'UPDATE' : 'CREATE',
      ...(options.namespace === '' ? {} : { namespace: options.namespace ?? 'team' }),
      userInfo: { username: options.user ?? 'bob', groups: ['system:authenticated'] },
      object,
      ...(options.old ? { oldObject: options.old } : {}),
    },
  };
}

describe('who may decide what the operator runs (no confused deputy)', () => {
  const asked: AccessRequest[] = [];
  const rbac = (allowed: boolean) => ({
    authorize: (request: AccessRequest) => {
      asked.push(request);
      return Promise.resolve({ allowed, ...(allowed ? {} : { reason: 'no RBAC rule' }) });
    },
    read: () => Promise.resolve(undefined),
  });
  beforeEach(() => {
    asked.length = 0;
  });

  it('finds every field that picks an image, a command, a ServiceAccount or a token mount', () => {
    expect(runbookAuthority(borrowing).map((field) => field.field)).to.deep.equal([
      'spec.agents.pipeline[1].image',
      'spec.agents.pipeline[1].command',
      'spec.agents.pipeline[1].serviceAccountName',
      'spec.agents.pipeline[1].automountServiceAccountToken',
      'spec.agents.core.librarian.image',
      'spec.agents.deployment.security.command',
    ]);
    expect(
      agentAuthority({ image: 'a:1', env: { X: '1' }, podTemplate: { serviceAccountName: 'sa' } }).map(
        (field) => field.field,
      ),
    ).to.deep.equal(['spec.image', 'spec.podTemplate.serviceAccountName']);
  });

  it('counts what an Agent mounts and reads from Secrets, and which claims a runbook mounts or makes', () => {
    expect(
      agentAuthority({
        image: 'a:1',
        secretEnv: { TOKEN: { secret: 's', key: 'k' } },
        podTemplate: { volumes: [{ name: 'keys', secret: { secretName: 'deploy-keys' } }] },
      }).map((field) => field.field),
    ).to.deep.equal(['spec.image', 'spec.secretEnv', 'spec.podTemplate.volumes']);
    const workspaces = {
      ...borrowing,
      workspaces: [
        { name: 'cache', persistentVolumeClaim: { claimName: 'team-cache' } },
        { name: 'source', volumeClaimTemplate: { spec: { resources: { requests: { storage: '1Gi' } } } } },
        { name: 'tmp', emptyDir: {} },
      ],
    };
    expect(runbookAuthority(workspaces).map((field) => `${field.field} ${field.kind}`)).to.include.members([
      'spec.workspaces[0].persistentVolumeClaim persistentVolumeClaim',
      'spec.workspaces[1].volumeClaimTemplate volumeClaimTemplate',
    ]);
  });

  it('asks whether the author may create claims for a claim template, and refuses naming that permission', async () => {
    const claiming = {
      version: '1.0.0',
      workspaces: [
        { name: 'source', volumeClaimTemplate: { spec: { resources: { requests: { storage: '1Gi' } } } } },
      ],
      agents: { pipeline: [{ name: 'a', workspaces: [{ name: 'source' }] }] },
    };
    const answer = (await reviewValidation(
      admissionReview({ spec: claiming }),
      rbac(false),
    )) as unknown as Answer;
    expect(answer.response.status?.code).to.equal(403);
    expect(answer.response.status?.message)
      .to.contain(
        'spec.workspaces[0].volumeClaimTemplate: user bob may not set a PersistentVolumeClaim made per run that the operator makes',
      )
      .and.contain('create on persistentvolumeclaims in namespace team');
    expect(asked.map((request) => request.attributes)).to.deep.equal([
      { verb: 'create', group: '', resource: 'persistentvolumeclaims', namespace: 'team' },
    ]);
  });

  it('ratchets: an update needs permission only for what it changes', () => {
    const before = runbookAuthority(borrowing);
    const moved = structuredClone(borrowing);
    moved.agents.pipeline[1] = { ...moved.agents.pipeline[1], image: 'alpine:3' } as never;
    expect(changedAuthority(runbookAuthority(moved), before).map((field) => field.field)).to.deep.equal([
      'spec.agents.pipeline[1].image',
    ]);
    expect(changedAuthority(before, before)).to.deep.equal([]);
  });

  it('matches image patterns where * is any run of characters', () => {
    expect(matchesPattern('registry.example/agents/llm:1', 'registry.example/agents/*')).to.equal(true);
    expect(matchesPattern('registry.example/agentsX', 'registry.example/agents/*')).to.equal(false);
    expect(matchesPattern('evil.example/registry.example/agents/x', 'registry.example/agents/*')).to.equal(
      false,
    );
    expect(matchesPattern('a-b-c', 'a*b*c')).to.equal(true);
    expect(matchesPattern('ac', 'a*b*c')).to.equal(false);
    expect(matchesPattern('aXbc', '*b*')).to.equal(true);
    expect(matchesPattern('exact', 'exact')).to.equal(true);
    expect(matchesPattern('exact2', 'exact')).to.equal(false);
  });

  it('refuses a runbook that borrows a ServiceAccount when its author may not create Jobs, naming fields and permission', async () => {
    const answer = (await reviewValidation(
      admissionReview({ spec: borrowing }),
      rbac(false),
    )) as unknown as Answer;
    expect(answer.response.allowed).to.equal(false);
    expect(answer.response.status?.code).to.equal(403);
    expect(answer.response.status?.message)
      .to.contain('spec.agents.pipeline[1].image')
      .and.contain('spec.agents.pipeline[1].serviceAccountName')
      .and.contain(
        'user bob may not set the image, the command, the ServiceAccount, a mounted ServiceAccount token',
      )
      .and.contain('create on jobs.batch in namespace team');
    expect(asked.map((request) => request.attributes)).to.deep.equal([
      { verb: 'create', group: 'batch', resource: 'jobs', namespace: 'team' },
    ]);
    expect(asked[0]?.user).to.equal('bob');
  });

  it('admits it for a user who may create Jobs there, and asks nothing of a runbook that sets none', async () => {
    const allowed = (await reviewValidation(
      admissionReview({ spec: borrowing }),
      rbac(true),
    )) as unknown as Answer;
    expect(allowed.response.allowed).to.equal(true);
    expect(asked).to.have.length(1);
    const plain = { version: '1.0.0', agents: { pipeline: [{ name: 'a' }] } };
    const answer = (await reviewValidation(
      admissionReview({ spec: plain }),
      rbac(false),
    )) as unknown as Answer;
    expect(answer.response.allowed).to.equal(true);
    expect(asked).to.have.length(1);
  });

  it('lets anyone edit the rest of a runbook whose image someone allowed set before', async () => {
    const edited = { ...borrowing, description: 'edited by bob' };
    const answer = (await reviewValidation(
      admissionReview({ spec: edited }, { old: { spec: borrowing } }),
      rbac(false),
    )) as unknown as Answer;
    expect(answer.response.allowed).to.equal(true);
    expect(asked).to.deep.equal([]);
  });

  it("refuses what the operator's policy pins out before asking RBAC", async () => {
    const policy: AdmissionPolicy = {
      default: { allowedImages: ['registry.example/*'] },
      namespaces: {
        team: { allowedImages: ['registry.example/agents/*'], allowedServiceAccounts: ['agents'] },
      },
    };
    const answer = (await reviewValidation(admissionReview({ spec: borrowing }), {
      ...rbac(true),
      policy,
    })) as unknown as Answer;
    expect(answer.response.status?.code).to.equal(422);
    expect(answer.response.status?.message)
      .to.contain('spec.agents.pipeline[1].image: image alpine is not allowed here')
      .and.contain('registry.example/agents/*')
      .and.contain('spec.agents.pipeline[1].serviceAccountName: ServiceAccount deployer is not allowed here')
      .and.contain('spec.agents.core.librarian.image: image lib:1');
    expect(asked).to.deep.equal([]);
  });

  it('checks templates too: a namespaced one in its namespace, a cluster one in every namespace', async () => {
    const template = { spec: { runbook: { spec: borrowing } } };
    const namespaced = (await reviewValidation(
      admissionReview(template, { kind: 'AgentRunbookTemplate' }),
      rbac(false),
    )) as unknown as Answer;
    expect(namespaced.response.status?.message).to.contain('spec.runbook.spec.agents.pipeline[1].image');
    const cluster = (await reviewValidation(
      admissionReview(template, { kind: 'ClusterAgentRunbookTemplate', namespace: '' }),
      rbac(false),
    )) as unknown as Answer;
    expect(cluster.response.status?.message).to.contain('create on jobs.batch in every namespace');
    expect(asked.map((request) => request.attributes.namespace)).to.deep.equal(['team', '']);
  });

  it('still refuses an invalid runbook for its rules before asking RBAC', async () => {
    const cyclic = { version: '1.0.0', agents: { pipeline: [{ name: 'a', image: 'x', dependsOn: ['a'] }] } };
    const answer = (await reviewValidation(
      admissionReview({ spec: cyclic }),
      rbac(true),
    )) as unknown as Answer;
    expect(answer.response.allowed).to.equal(false);
    expect(answer.response.status?.code).to.equal(422);
    expect(asked).to.deep.equal([]);
  });

  it('bounds a template sent straight to the webhook before walking it', async () => {
    const nested = {
      spec: { runbook: { spec: { agents: { pipeline: [{ name: 'a', command: deepObject(5000, 1) }] } } } },
    };
    const answer = (await reviewValidation(
      admissionReview(nested, { kind: 'AgentRunbookTemplate' }),
      rbac(true),
    )) as unknown as Answer;
    expect(answer.response.status?.code).to.equal(400);
    expect(answer.response.status?.message).to.contain('nested deeper than');
    expect(asked).to.deep.equal([]);
  });
});
