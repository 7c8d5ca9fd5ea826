import { expect } from 'chai';
import { stringify } from 'yaml';
import type { AgentCatalog } from '../../src/api/catalog.js';
import { kubectl } from '../../hack/local-cluster/tools.js';
import { RunbookEnv, runbook } from '../support/runbook-env.js';
import { eventually } from '../support/eventually.js';

const CATALOG: AgentCatalog = {
  agents: [
    { name: 'fetch', image: 'registry.example/fetch:1' },
    { name: 'summarize', image: 'registry.example/summarize:1' },
  ],
};

const WORKSPACES = [
  {
    name: 'source',
    volumeClaimTemplate: {
      metadata: { labels: { team: 'research' } },
      spec: { storageClassName: 'standard', resources: { requests: { storage: '1Gi' } } },
    },
  },
];

const sharing = (name: string, extra: Record<string, unknown> = {}) =>
  runbook(
    name,
    'pipeline',
    [
      { name: 'fetch', workspaces: [{ name: 'source' }] },
      { name: 'summarize', dependsOn: ['fetch'], workspaces: [{ name: 'source', readOnly: true }] },
    ],
    { workspaces: WORKSPACES, ...extra },
  );

interface Claim {
  metadata: {
    name: string;
    labels: Record<string, string>;
    ownerReferences: { kind: string; name: string }[];
    deletionTimestamp?: string;
  };
  spec: { accessModes: string[]; storageClassName: string; resources: { requests: { storage: string } } };
}

describe('workspaces on a real control plane (a claim per run, kept together, removed with history)', function () {
  this.timeout(180_000);
  const env = new RunbookEnv('workspaces', CATALOG, { webhook: true });
  const podsOf = (name: string, stage: string) =>
    env.calls
      .filter((call) => call.pod.metadata?.labels?.['i2s.studio/runbook'] === name && call.stage === stage)
      .map((call) => call.pod);
  const claims = async (name: string): Promise<Claim[]> => {
    const listed = await env.k('get', 'pvc', '-l', `i2s.studio/runbook=${name}`, '-o', 'json');
    expect(listed.code, listed.stderr).to.equal(0);
    return (JSON.parse(listed.stdout) as { items: Claim[] }).items;
  };

  before(async () => {
    await env.start();
    // carol may write runbooks and create Jobs, but not claims.
    await env.grant(
      'runner',
      [
        { apiGroups: ['i2s.studio'], resources: ['agentrunbooks'], verbs: ['get', 'list', 'create'] },
        { apiGroups: ['batch'], resources: ['jobs'], verbs: ['create'] },
      ],
      ['carol'],
    );
  });

  after(async () => {
    await env.stop();
  });

  it('makes a claim for the run, owned by the runbook, that both stages mount; the second on the first one’s node', async () => {
    await env.apply(sharing('shared'));
    await env.waitPhase('shared', 'Succeeded');
    const [claim] = await claims('shared');
    expect(claim?.metadata.labels).to.include({ team: 'research', 'i2s.studio/execution': 'g1' });
    expect(claim?.metadata.ownerReferences.map((owner) => `${owner.kind}/${owner.name}`)).to.deep.equal([
      'AgentRunbook/shared',
    ]);
    expect(claim?.spec).to.deep.include({ accessModes: ['ReadWriteOnce'], storageClassName: 'standard' });
    const [fetch] = podsOf('shared', 'fetch');
    const [summarize] = podsOf('shared', 'summarize');
    for (const pod of [fetch, summarize]) {
      expect(
        pod?.spec?.volumes?.find((volume) => volume.persistentVolumeClaim)?.persistentVolumeClaim,
      ).to.deep.equal({
        claimName: claim?.metadata.name,
      });
      expect(pod?.spec?.containers[0]?.env).to.deep.include({
        name: 'AGENT_WORKSPACES',
        value: JSON.stringify({ source: '/workspace/source' }),
      });
      expect(pod?.metadata?.labels).to.have.property('i2s.studio/colocate');
    }
    expect(summarize?.spec?.containers[0]?.volumeMounts).to.deep.include({
      name: 'workspace-0',
      mountPath: '/workspace/source',
      readOnly: true,
    });
    // fetch went to the node; summarize was required there.
    expect(fetch?.spec?.nodeSelector).to.equal(undefined);
    expect(summarize?.spec?.nodeSelector).to.deep.equal({ 'kubernetes.io/hostname': env.node.nodeName });
    const status = await env.status('shared');
    expect(status.workspaces).to.deep.equal([
      { name: 'source', claim: claim?.metadata.name, node: env.node.nodeName },
    ]);
  });

  it('removes a run’s claim with its Jobs when spec.history no longer keeps it, and keeps the newer run’s', async () => {
    await env.apply(sharing('pruned', { history: { limit: 1 } }));
    await env.waitPhase('pruned', 'Succeeded');
    const [first] = await claims('pruned');
    const rerun = await env.k('annotate', 'arb', 'pruned', 'i2s.studio/rerun=2', '--overwrite');
    expect(rerun.code, rerun.stderr).to.equal(0);
    await env.waitPhase('pruned', 'Succeeded');
    await eventually(async () => {
      // Gone, or going once its Pods are (the claim-protection finalizer).
      const left = (await claims('pruned')).filter((claim) => !claim.metadata.deletionTimestamp);
      expect(left).to.have.length(1);
      expect(left[0]?.metadata.name).not.to.equal(first?.metadata.name);
    });
  });

  it('refuses a claim template from a user who may not create claims, naming the field and the permission', async () => {
    const refused = await env.as('carol', ['create', '-f', '-'], stringify(sharing('refused')));
    expect(refused.code).not.to.equal(0);
    expect(refused.stderr)
      .to.contain('spec.workspaces[0].volumeClaimTemplate')
      .and.contain('create on persistentvolumeclaims in namespace');
  });

  it('refuses at admission a workspace no one declared, naming the stage’s field', async () => {
    const undeclared = runbook('undeclared', 'pipeline', [{ name: 'fetch', workspaces: [{ name: 'nope' }] }]);
    const refused = await kubectl(
      env.plane.adminKubeconfigPath,
      ['-n', env.namespace, 'apply', '-f', '-'],
      stringify(undeclared),
    );
    expect(refused.code).not.to.equal(0);
    expect(refused.stderr).to.contain(
      'spec.agents.pipeline[0].workspaces[0].name: names no workspace of spec.workspaces',
    );
  });
});
