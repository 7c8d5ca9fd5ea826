import { expect } from 'chai';
import { stringify } from 'yaml';
import type { AgentCatalog } from '../../src/api/catalog.js';
import { kubectl } from '../../hack/local-cluster/tools.js';
import { RunbookEnv, runbook } from '../support/runbook-env.js';
import { eventually } from '../support/eventually.js';
import { startCli } from '../support/cli-process.js';
import { applyAgentLibrary } from '../../src/operator/agent-library.js';
import { KubeHttp } from '../../src/kube/http.js';
import { loadClusterAccess } from '../../src/kube/cluster-access.js';

const CATALOG: AgentCatalog = {
  agents: [
    { name: 'researcher', image: 'registry.example/catalog/researcher:1' },
    { name: 'writer', image: 'registry.example/catalog/writer:1' },
  ],
};

const agent = (kind: 'Agent' | 'ClusterAgent', name: string, spec: Record<string, unknown>) => ({
  apiVersion: 'i2s.studio/v2',
  kind,
  metadata: { name },
  spec,
});

const PLACED = {
  image: 'registry.example/team/researcher:2',
  env: { MODE: 'deep' },
  scratch: { tmpSizeLimit: '2Gi' },
  podTemplate: {
    labels: { team: 'research' },
    annotations: { 'iam.example/role': 'reader' },
    nodeSelector: { pool: 'agents' },
    tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'agents', effect: 'NoSchedule' }],
    runtimeClassName: 'gvisor',
    volumes: [{ name: 'models', configMap: { name: 'models' } }],
    volumeMounts: [{ name: 'models', mountPath: '/models', readOnly: true }],
  },
};

describe('agents as API objects on a real control plane (Agent, ClusterAgent, admission)', function () {
  this.timeout(180_000);
  const env = new RunbookEnv('agents', CATALOG, { webhook: true });
  const as = env.as.bind(env);
  const podsOf = (stage: string) => env.calls.filter((call) => call.stage === stage).map((call) => call.pod);

  before(async () => {
    await env.start();
    // The API server refuses a Pod whose RuntimeClass does not exist; the fake node runs it whatever its handler.
    await env.apply({
      apiVersion: 'node.k8s.io/v1',
      kind: 'RuntimeClass',
      metadata: { name: 'gvisor' },
      handler: 'runsc',
    });
    // bob may write runbooks and Agents, but not create Jobs.
    await env.grant(
      'author',
      [
        {
          apiGroups: ['i2s.studio'],
          resources: ['agentrunbooks', 'agents'],
          verbs: ['get', 'list', 'create', 'update', 'patch'],
        },
      ],
      ['bob'],
    );
  });

  after(async () => {
    await env.stop();
  });

  it("runs a stage from its namespace's Agent, placed and configured by its Pod template, with scratch", async () => {
    await env.apply(agent('Agent', 'researcher', PLACED));
    const listed = await env.k('get', 'agents');
    expect(listed.stdout).to.match(/researcher\s+registry\.example\/team\/researcher:2/);
    // bob names the Agent: he sets no image, so he needs no Job rights.
    const created = await as(
      'bob',
      ['create', '-f', '-'],
      stringify(runbook('placed', 'pipeline', [{ name: 'research', agent: 'researcher' }])),
    );
    expect(created.code, created.stderr).to.equal(0);
    await env.waitPhase('placed', 'Succeeded');
    const [pod] = podsOf('research');
    const spec = pod?.spec;
    const container = spec?.containers[0];
    expect(container?.image).to.equal(PLACED.image);
    expect(spec?.nodeSelector).to.deep.equal({ pool: 'agents' });
    expect(spec?.tolerations).to.deep.include({
      key: 'dedicated',
      operator: 'Equal',
      value: 'agents',
      effect: 'NoSchedule',
    });
    expect(spec?.runtimeClassName).to.equal('gvisor');
    expect(pod?.metadata?.labels).to.include({ team: 'research', 'i2s.studio/stage': 'research' });
    expect(pod?.metadata?.annotations).to.include({ 'iam.example/role': 'reader' });
    expect(container?.env).to.deep.include({ name: 'MODE', value: 'deep' });
    expect(container?.env).to.deep.include({ name: 'HOME', value: '/home/agent' });
    expect(container?.securityContext?.readOnlyRootFilesystem).to.equal(true);
    expect(container?.volumeMounts?.map((mount) => mount.mountPath)).to.include.members([
      '/tmp',
      '/home/agent',
      '/models',
    ]);
    expect(spec?.volumes?.find((volume) => volume.name === 'scratch-tmp')?.emptyDir?.sizeLimit).to.equal(
      '2Gi',
    );
  });

  it('applies a changed Agent to the next attempt without restarting the operator', async () => {
    await env.apply(agent('Agent', 'researcher', { ...PLACED, image: 'registry.example/team/researcher:3' }));
    const rerun = await env.k('annotate', 'arb', 'placed', 'i2s.studio/rerun=1', '--overwrite');
    expect(rerun.code, rerun.stderr).to.equal(0);
    await eventually(async () => {
      const jobs = await env.jobsOf('placed');
      expect(jobs.map((job) => job.spec.template.spec.containers[0]?.image)).to.include(
        'registry.example/team/researcher:3',
      );
    });
    await env.waitPhase('placed', 'Succeeded');
  });

  it('resolves a namespaced Agent before a ClusterAgent, and a ClusterAgent before the catalog file', async () => {
    await env.apply(agent('ClusterAgent', 'writer', { image: 'registry.example/platform/writer:5' }));
    await env.apply(agent('ClusterAgent', 'researcher', { image: 'registry.example/platform/researcher:9' }));
    await env.apply(
      runbook('resolved', 'pipeline', [
        { name: 'research', agent: 'researcher' },
        { name: 'write', agent: 'writer', dependsOn: ['research'] },
      ]),
    );
    await env.waitPhase('resolved', 'Succeeded');
    const images = env.calls
      .filter((call) => call.pod.metadata?.labels?.['i2s.studio/runbook'] === 'resolved')
      .map((call) => call.pod.spec?.containers[0]?.image);
    expect(images).to.deep.equal([
      'registry.example/team/researcher:3',
      'registry.example/platform/writer:5',
    ]);
  });

  it("keeps each agent's status: accepted, the runbooks that use it, its circuit breaker", async () => {
    interface Listed {
      status?: {
        conditions?: { type: string; status: string }[];
        usedBy?: string[];
        usedByCount?: number;
        circuitBreaker?: { state: string };
      };
    }
    const statusOf = async (kind: string, name: string) =>
      (JSON.parse((await env.k('get', kind, name, '-o', 'json')).stdout) as Listed).status;
    const ns = env.namespace;
    await eventually(async () => {
      const own = await statusOf('agent', 'researcher');
      expect(own?.conditions?.map((c) => [c.type, c.status])).to.deep.equal([['Accepted', 'True']]);
      expect(own?.usedBy).to.deep.equal([`${ns}/placed`, `${ns}/resolved`]);
      expect(own?.usedByCount).to.equal(2);
      expect(own?.circuitBreaker).to.deep.equal({ state: 'closed' });
      expect((await statusOf('clusteragent', 'writer'))?.usedBy).to.deep.equal([`${ns}/resolved`]);
      // The namespace's own researcher comes first: the ClusterAgent serves none of its runbooks.
      expect((await statusOf('clusteragent', 'researcher'))?.usedByCount).to.equal(0);
    });
    const listed = await env.k('get', 'agents');
    expect(listed.stdout).to.match(/researcher\s+registry\.example\/team\/researcher:3\s+True\s+closed\s+2/);
  });

  it('agentrunbook agents lists them in the order a stage resolves them', async () => {
    const cli = startCli(['agents', '--kubeconfig', env.plane.adminKubeconfigPath, '-n', env.namespace]);
    expect(await cli.exited, cli.output()).to.equal(0);
    const lines = cli
      .output()
      .trim()
      .split('\n')
      .map((line) => line.trim().split(/\s{2,}/));
    expect(lines).to.deep.equal([
      ['NAME', 'KIND', 'VERSIONS', 'IMAGE', 'NOTE'],
      ['researcher', 'Agent', '*', 'registry.example/team/researcher:3'],
      [
        'researcher',
        'ClusterAgent',
        '*',
        'registry.example/platform/researcher:9',
        `an Agent in ${env.namespace} comes first`,
      ],
      ['writer', 'ClusterAgent', '*', 'registry.example/platform/writer:5'],
    ]);
  });

  it('confines an Agent with egress by a NetworkPolicy made before its first Pod, removed with the egress', async () => {
    const egress = { to: [{ cidr: '203.0.113.0/24', ports: [{ port: 443 }] }] };
    await env.apply(agent('Agent', 'confined', { image: 'registry.example/team/confined:1', egress }));
    await env.apply(runbook('confined', 'pipeline', [{ name: 'fetch', agent: 'confined' }]));
    await env.waitPhase('confined', 'Succeeded');
    interface Policy {
      metadata: {
        name: string;
        creationTimestamp: string;
        ownerReferences: { kind: string; name: string }[];
      };
      spec: { podSelector: { matchLabels: Record<string, string> }; egress: unknown[] };
    }
    const policies = async () =>
      (
        JSON.parse(
          (await env.k('get', 'networkpolicies', '-l', 'i2s.studio/egress-of=confined', '-o', 'json')).stdout,
        ) as { items: Policy[] }
      ).items;
    const [policy] = await policies();
    expect(policy?.metadata.ownerReferences.map((owner) => [owner.kind, owner.name])).to.deep.equal([
      ['Agent', 'confined'],
    ]);
    expect(policy?.spec.podSelector.matchLabels).to.include({ 'i2s.studio/agent': 'confined' });
    expect(policy?.spec.egress).to.have.length(2);
    const [job] = await env.jobsOf('confined');
    expect(Date.parse(policy?.metadata.creationTimestamp ?? '')).to.be.at.most(
      Date.parse(job?.metadata.creationTimestamp ?? ''),
    );
    // The egress removed (kubectl apply drops what the file no longer has): its policy goes.
    await env.apply(agent('Agent', 'confined', { image: 'registry.example/team/confined:1' }));
    await eventually(async () => {
      expect(await policies()).to.deep.equal([]);
    });
    const deleted = await env.k('delete', 'agent', 'confined');
    expect(deleted.code, deleted.stderr).to.equal(0);
  });

  it('fails a stage whose agent nothing defines, naming where it looked', async () => {
    await env.apply(runbook('nowhere', 'pipeline', [{ name: 'x', agent: 'ghost' }]));
    await env.waitPhase('nowhere', 'Failed');
    const stage = (await env.status('nowhere')).stages.find((entry) => entry.name === 'x');
    expect(stage?.reason).to.equal('AgentNotFound');
    expect(stage?.message).to.contain('no Agent in this namespace, ClusterAgent').and.contain('ghost');
  });

  it('refuses an Agent whose author may not create Jobs, and one that asks for what no agent may', async () => {
    const byBob = await as(
      'bob',
      ['create', '-f', '-'],
      stringify(agent('Agent', 'mine', { image: 'alpine' })),
    );
    expect(byBob.code).to.not.equal(0);
    expect(byBob.stderr).to.contain('spec.image').and.contain('user bob may not set the image');
    const hostile: [string, Record<string, unknown>, string][] = [
      [
        'host-path',
        { image: 'a:1', podTemplate: { volumes: [{ name: 'root', hostPath: { path: '/' } }] } },
        'hostPath',
      ],
      [
        'writable-root',
        { image: 'a:1', podTemplate: { securityContext: { readOnlyRootFilesystem: false } } },
        'spec.podTemplate.securityContext.readOnlyRootFilesystem: a writable root filesystem is not allowed here',
      ],
      [
        'root-user',
        { image: 'a:1', podTemplate: { securityContext: { runAsUser: 0 } } },
        'spec.podTemplate.securityContext.runAsUser',
      ],
      [
        'capabilities',
        { image: 'a:1', podTemplate: { securityContext: { addCapabilities: ['SYS_ADMIN'] } } },
        'capabilities SYS_ADMIN are not allowed here',
      ],
      ['privileged', { image: 'a:1', podTemplate: { securityContext: { privileged: true } } }, 'privileged'],
      [
        'hides-files',
        {
          image: 'a:1',
          podTemplate: {
            volumes: [{ name: 'x', emptyDir: {} }],
            volumeMounts: [{ name: 'x', mountPath: '/var/run' }],
          },
        },
        'spec.podTemplate.volumeMounts[0].mountPath: would hide /var/run/agentrunbook',
      ],
      [
        'reserved-volume',
        { image: 'a:1', podTemplate: { volumes: [{ name: 'scratch-tmp', emptyDir: {} }] } },
        "scratch-tmp is the operator's own volume",
      ],
    ];
    for (const [name, spec, message] of hostile) {
      const result = await kubectl(
        env.plane.adminKubeconfigPath,
        ['-n', env.namespace, 'create', '-f', '-'],
        stringify(agent('Agent', name, spec)),
      );
      expect(result.code, `${name} was admitted`).to.not.equal(0);
      expect(result.stderr, name).to.contain(message);
    }
    const left = await env.k('get', 'agents', '-o', 'name');
    expect(left.stdout.trim().split('\n')).to.deep.equal(['agent.i2s.studio/researcher']);
  });

  it('applies the agent library (the chart’s agents) under the operator’s own RBAC, through admission, reporting what it cannot', async () => {
    const refused = await applyAgentLibrary(new KubeHttp(await loadClusterAccess(env.operatorKubeconfig)), [
      {
        apiVersion: 'i2s.studio/v2',
        kind: 'ClusterAgent',
        metadata: { name: 'library-all' },
        spec: { image: 'registry.example/lib:1' },
      },
      {
        apiVersion: 'i2s.studio/v2',
        kind: 'Agent',
        metadata: { name: 'library-team', namespace: env.namespace },
        spec: { image: 'registry.example/team:1' },
      },
      {
        apiVersion: 'i2s.studio/v2',
        kind: 'Agent',
        metadata: { name: 'library-lost', namespace: 'no-such-namespace' },
        spec: { image: 'registry.example/lost:1' },
      },
    ]);
    // An Agent whose namespace does not exist is reported, and keeps none of the others out.
    expect(refused.map((entry) => entry.agent)).to.deep.equal(['Agent no-such-namespace/library-lost']);
    expect(refused[0]?.error).to.match(/not found/i);
    expect((await env.k('get', 'clusteragent', 'library-all', '-o', 'name')).stdout).to.contain(
      'library-all',
    );
    expect((await env.k('get', 'agent', 'library-team', '-o', 'jsonpath={.spec.image}')).stdout).to.equal(
      'registry.example/team:1',
    );
  });
});
