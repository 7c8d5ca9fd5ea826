import { expect } from 'chai';
import { EngineHarness, runbookOf, spec } from '../../../support/engine-harness.js';
import type { SpecV2 } from '../../../../src/api/v2/runbook.js';
import type { AgentCatalog } from '../../../../src/api/catalog.js';
import { ENV } from '../../../../src/api/agent-contract.js';
import { claimName, colocationGroup } from '../../../../src/engine/model/naming.js';

const claimTemplate = (accessModes?: ('ReadWriteOnce' | 'ReadWriteMany')[]) => ({
  spec: { ...(accessModes ? { accessModes } : {}), resources: { requests: { storage: '1Gi' } } },
});

/** fetch -> (summarize, lint): fetch and summarize share `source`; lint reads it too when `lintShares`. */
function sharing(workspaces: SpecV2['workspaces']): SpecV2 {
  return spec({
    workspaces,
    stages: [
      { name: 'fetch', workspaces: [{ name: 'source' }, { name: 'scratch', mountPath: '/scratch' }] },
      { name: 'summarize', dependsOn: ['fetch'], workspaces: [{ name: 'source', readOnly: true }] },
      { name: 'lint', dependsOn: ['fetch'] },
    ],
  });
}

const planOf = (h: EngineHarness, stage: string) => {
  const plan = [...h.plans.values()].find((p) => p.stage === stage);
  if (!plan) throw new Error(`no plan for ${stage}`);
  return plan;
};

describe('workspaces: storage the stages of a run share', () => {
  it('mounts a claim made for the run where each stage names it, and tells the agent where', () => {
    const h = new EngineHarness(
      runbookOf(
        sharing([
          { name: 'source', volumeClaimTemplate: claimTemplate() },
          { name: 'scratch', emptyDir: { sizeLimit: '64Mi' } },
        ]),
      ),
    );
    h.step();
    const fetch = planOf(h, 'fetch');
    const claim = claimName('rb', 'source', 'g1', 'uid-1');
    expect(fetch.workspaces).to.deep.equal([
      {
        name: 'source',
        mountPath: '/workspace/source',
        readOnly: false,
        claim: { name: claim, template: claimTemplate() },
      },
      { name: 'scratch', mountPath: '/scratch', readOnly: false, emptyDir: { sizeLimit: '64Mi' } },
    ]);
    expect(JSON.parse(fetch.env[ENV.workspaces] ?? '{}')).to.deep.equal({
      source: '/workspace/source',
      scratch: '/scratch',
    });
    expect(h.runbook.status?.workspaces).to.deep.equal([{ name: 'source', claim }, { name: 'scratch' }]);
    h.succeed('fetch');
    h.step();
    const summarize = planOf(h, 'summarize');
    expect(summarize.workspaces?.[0]).to.include({ name: 'source', readOnly: true });
    expect(summarize.workspaces?.[0]?.claim?.name).to.equal(claim);
    expect(planOf(h, 'lint').workspaces).to.equal(undefined);
    expect(planOf(h, 'lint').env).not.to.have.property(ENV.workspaces);
  });

  it('gives each run its own claim', () => {
    const h = new EngineHarness(
      runbookOf(sharing([{ name: 'source', volumeClaimTemplate: claimTemplate() }])),
    );
    h.step();
    h.runbook = { ...h.runbook, metadata: { ...h.runbook.metadata, generation: 2 } };
    h.step();
    const claims = [...h.plans.values()]
      .filter((plan) => plan.stage === 'fetch')
      .map((plan) => plan.workspaces?.[0]?.claim?.name);
    expect(claims).to.have.length(2);
    expect(new Set(claims).size).to.equal(2);
  });

  it('keeps the stages that share a ReadWriteOnce claim together, and on the first one’s node once it was scheduled', () => {
    const h = new EngineHarness(
      runbookOf(sharing([{ name: 'source', volumeClaimTemplate: claimTemplate() }])),
    );
    h.step();
    const group = colocationGroup('uid-1', 'g1');
    expect(planOf(h, 'fetch').colocation).to.deep.equal({ group });
    // The scheduler put fetch's Pod on node-b.
    const fetchJob = h.activeFor('fetch');
    fetchJob.node = 'node-b';
    h.step();
    expect(h.runbook.status?.workspaces?.[0]).to.include({ node: 'node-b' });
    h.succeed('fetch');
    h.step();
    expect(planOf(h, 'summarize').colocation).to.deep.equal({ group, node: 'node-b' });
    // lint names no workspace: it may go anywhere.
    expect(planOf(h, 'lint').colocation).to.equal(undefined);
  });

  it('does not tie stages to a node for a ReadWriteMany claim, nor for a claim only one stage names', () => {
    const many = new EngineHarness(
      runbookOf(sharing([{ name: 'source', volumeClaimTemplate: claimTemplate(['ReadWriteMany']) }])),
    );
    many.step();
    expect(planOf(many, 'fetch').colocation).to.equal(undefined);
    const alone = new EngineHarness(
      runbookOf(
        spec({
          workspaces: [{ name: 'source', volumeClaimTemplate: claimTemplate() }],
          stages: [{ name: 'fetch', workspaces: [{ name: 'source' }] }],
        }),
      ),
    );
    alone.step();
    expect(planOf(alone, 'fetch').colocation).to.equal(undefined);
  });

  it('mounts an existing claim as it is, never naming a claim of its own', () => {
    const h = new EngineHarness(
      runbookOf(sharing([{ name: 'source', persistentVolumeClaim: { claimName: 'team-cache' } }])),
    );
    h.step();
    expect(planOf(h, 'fetch').workspaces?.[0]?.claim).to.deep.equal({ name: 'team-cache' });
    expect(h.runbook.status?.workspaces).to.deep.equal([{ name: 'source', claim: 'team-cache' }]);
    // Its access modes are not read: stages sharing it stay together, as for ReadWriteOnce.
    expect(planOf(h, 'fetch').colocation).to.have.property('group');
  });

  it('fails a stage whose agent requires another node than the one its shared workspace is on, naming both', () => {
    const catalog: AgentCatalog = {
      agents: [
        { name: 'fetch', image: 'example.com/fetch:1' },
        {
          name: 'summarize',
          image: 'example.com/s:1',
          podTemplate: { nodeSelector: { 'kubernetes.io/hostname': 'gpu-1' } },
        },
        { name: 'lint', image: 'example.com/l:1' },
      ],
    };
    const h = new EngineHarness(
      runbookOf(sharing([{ name: 'source', volumeClaimTemplate: claimTemplate() }])),
      catalog,
    );
    h.step();
    h.activeFor('fetch').node = 'node-b';
    h.succeed('fetch');
    h.step();
    const stage = h.stage('summarize');
    expect(stage.phase).to.equal('Failed');
    expect(stage.reason).to.equal('WorkspaceNodeConflict');
    expect(stage.message).to.contain('node node-b').and.contain('node gpu-1');
  });

  it('fails a stage whose workspace would hide its agent’s HOME', () => {
    const catalog: AgentCatalog = {
      agents: [{ name: 'fetch', image: 'example.com/fetch:1', env: { HOME: '/workspace/source/home' } }],
    };
    const h = new EngineHarness(
      runbookOf(
        spec({
          workspaces: [{ name: 'source', volumeClaimTemplate: claimTemplate() }],
          stages: [{ name: 'fetch', workspaces: [{ name: 'source' }] }],
        }),
      ),
      catalog,
    );
    h.step();
    expect(h.stage('fetch')).to.include({ phase: 'Failed', reason: 'WorkspaceMountConflict' });
    expect(h.stage('fetch').message).to.contain('/workspace/source/home');
  });

  it('says why a stage waits for a node, and where it must run, then that it runs once placed', () => {
    const h = new EngineHarness(
      runbookOf(sharing([{ name: 'source', volumeClaimTemplate: claimTemplate() }])),
    );
    h.step();
    h.activeFor('fetch').node = 'node-b';
    h.succeed('fetch');
    h.step();
    const summarize = h.activeFor('summarize');
    summarize.unschedulable = "0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector.";
    const waiting = h.step();
    expect(h.stage('summarize').reason).to.equal('Unschedulable');
    expect(h.stage('summarize').message)
      .to.contain('waits for a node: 0/2 nodes are available')
      .and.contain('on node node-b with the other stages that share workspace source');
    expect(waiting.events.map((e) => e.reason)).to.include('StageUnschedulable');
    // Told once, not on every reconcile.
    expect(h.step().events.map((e) => e.reason)).not.to.include('StageUnschedulable');
    delete summarize.unschedulable;
    summarize.node = 'node-b';
    h.step();
    expect(h.stage('summarize').reason).to.equal('Started');
  });

  it('removes the claims of a run with its Jobs (spec.history), keeping those of runs still kept', () => {
    const h = new EngineHarness(
      runbookOf({
        ...spec({
          workspaces: [{ name: 'source', volumeClaimTemplate: claimTemplate() }],
          stages: [{ name: 'fetch', workspaces: [{ name: 'source' }] }],
        }),
        history: { limit: 1 },
      }),
    );
    h.step();
    h.succeed('fetch');
    h.step();
    expect(h.step().pruneClaims).to.equal(undefined);
    h.runbook = { ...h.runbook, metadata: { ...h.runbook.metadata, generation: 2 } };
    h.step();
    h.succeed('fetch');
    h.step();
    const pruned = h.step();
    expect(pruned.delete.map((d) => d.reason)).to.deep.equal(['HistoryLimit']);
    expect(pruned.pruneClaims).to.deep.equal({ keepExecutions: ['g2'] });
  });
});
