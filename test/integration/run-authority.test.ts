import { expect } from 'chai';
import { stringify } from 'yaml';
import type { AgentCatalog } from '../../src/api/catalog.js';
import { kubectl } from '../../hack/local-cluster/tools.js';
import { RunbookEnv, runbook } from '../support/runbook-env.js';

const CATALOG: AgentCatalog = {
  agents: [{ name: 'a', image: 'registry.example/agents/a:1' }],
  admission: { namespaces: {}, default: { allowedImages: ['registry.example/*', 'alpine*'] } },
};

/** The case from the issue: a runbook that runs its own code as another ServiceAccount, with its token. */
const borrowing = (name: string, image = 'alpine') =>
  runbook(name, 'pipeline', [
    {
      name: 'steal',
      image,
      command: ['sh', '-c', 'cat /var/run/secrets/kubernetes.io/serviceaccount/token'],
      serviceAccountName: 'deployer',
      automountServiceAccountToken: true,
    } as never,
  ]);

describe('no confused deputy on a real control plane (webhook, SubjectAccessReview)', function () {
  this.timeout(180_000);
  const env = new RunbookEnv('authority', CATALOG, { webhook: true });
  const as = (user: string, args: string[], stdin?: string) =>
    kubectl(env.plane.adminKubeconfigPath, ['--as', user, '-n', env.namespace, ...args], stdin);

  before(async () => {
    await env.start();
    // Both may write runbooks and templates; only ops may also create Jobs.
    const rbac = [
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: 'runbook-author', namespace: env.namespace },
        rules: [
          {
            apiGroups: ['i2s.studio'],
            resources: ['agentrunbooks', 'agentrunbooktemplates'],
            verbs: ['get', 'list', 'create', 'update', 'patch'],
          },
        ],
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: 'job-runner', namespace: env.namespace },
        rules: [{ apiGroups: ['batch'], resources: ['jobs'], verbs: ['create'] }],
      },
      ...['bob', 'ops'].map((user) => ({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: `author-${user}`, namespace: env.namespace },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'runbook-author' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
      })),
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'runner-ops', namespace: env.namespace },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'job-runner' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'ops' }],
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

  it('refuses a runbook that sets image, command, ServiceAccount and token for a user who may not create Jobs', async () => {
    const refused = await as('bob', ['create', '-f', '-'], stringify(borrowing('borrowed')));
    expect(refused.code).to.not.equal(0);
    expect(refused.stderr)
      .to.contain('spec.agents.pipeline[0].image')
      .and.contain('spec.agents.pipeline[0].serviceAccountName')
      .and.contain('user bob may not set the image')
      .and.contain(`create on jobs.batch in namespace ${env.namespace}`);
    const absent = await env.k('get', 'jobs', '-o', 'name');
    expect(absent.stdout).to.equal('');
    const template = {
      apiVersion: 'i2s.studio/v2',
      kind: 'AgentRunbookTemplate',
      metadata: { name: 'borrowing' },
      spec: { runbook: { spec: borrowing('x').spec } },
    };
    const viaTemplate = await as('bob', ['create', '-f', '-'], stringify(template));
    expect(viaTemplate.code).to.not.equal(0);
    expect(viaTemplate.stderr).to.contain('spec.runbook.spec.agents.pipeline[0].image');
  });

  it('lets bob run catalog agents, and ops set an image; bob may then edit the rest of it', async () => {
    const plain = await as(
      'bob',
      ['create', '-f', '-'],
      stringify(runbook('plain', 'pipeline', [{ name: 'a' }])),
    );
    expect(plain.code, plain.stderr).to.equal(0);
    const byOps = await as('ops', ['create', '-f', '-'], stringify(borrowing('by-ops', 'alpine:3')));
    expect(byOps.code, byOps.stderr).to.equal(0);
    const edited = await as('bob', [
      'patch',
      'arb',
      'by-ops',
      '--type=merge',
      '-p',
      '{"spec":{"description":"x"}}',
    ]);
    expect(edited.code, edited.stderr).to.equal(0);
    const swapped = await as('bob', [
      'patch',
      'arb',
      'by-ops',
      '--type=json',
      '-p',
      '[{"op":"replace","path":"/spec/agents/pipeline/0/image","value":"alpine:edge"}]',
    ]);
    expect(swapped.code).to.not.equal(0);
    expect(swapped.stderr).to.contain('user bob may not set the image');
  });

  it("refuses an image outside the operator's policy, even for ops", async () => {
    const refused = await as(
      'ops',
      ['create', '-f', '-'],
      stringify(borrowing('elsewhere', 'evil.example/x')),
    );
    expect(refused.code).to.not.equal(0);
    expect(refused.stderr).to.contain('image evil.example/x is not allowed here').and.contain('alpine*');
  });
});
