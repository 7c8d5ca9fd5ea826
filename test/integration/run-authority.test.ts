import { expect } from 'chai';
import { stringify } from 'yaml';
import type { AgentCatalog } from '../../src/api/catalog.js';
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
  const as = env.as.bind(env);

  before(async () => {
    await env.start();
    // Both may write runbooks and templates; only ops may also create Jobs.
    await env.grant(
      'runbook-author',
      [
        {
          apiGroups: ['i2s.studio'],
          resources: ['agentrunbooks', 'agentrunbooktemplates'],
          verbs: ['get', 'list', 'create', 'update', 'patch'],
        },
      ],
      ['bob', 'ops'],
    );
    await env.grant(
      'job-runner',
      [{ apiGroups: ['batch'], resources: ['jobs'], verbs: ['create'] }],
      ['ops'],
    );
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
