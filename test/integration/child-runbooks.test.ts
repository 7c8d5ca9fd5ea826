/**
 * Runbooks as stages on a real control plane (RBAC on, the operator under its ServiceAccount and
 * serving its admission webhook): a stage runs a named runbook as a child AgentRunbook the parent
 * owns, with its inputs as the child's context and its budget capped at the stage's grant, and
 * takes its outputs; cancelling the parent cancels the child; admission refuses a cycle, and a
 * writer who may not run what the named runbook runs.
 */
import { expect } from 'chai';
import { stringify } from 'yaml';
import type { AgentCatalog } from '../../src/api/catalog.js';
import { LABEL_PARENT } from '../../src/api/labels.js';
import type { AgentRunbookJson } from '../../src/kube/types.js';
import { kubectl } from '../../hack/local-cluster/tools.js';
import { eventually } from '../support/eventually.js';
import { RunbookEnv, runbook, type StageSketch } from '../support/runbook-env.js';
import { succeed } from '../support/scripted-agents.js';

const CATALOG: AgentCatalog = {
  agents: ['research', 'check', 'summarize', 'publish'].map((name) => ({
    name,
    image: `registry.example/agents/${name}:1.0.0`,
  })),
};

const LIBRARY: StageSketch[] = [
  { name: 'check', config: { inputs: { title: '${context.title}' }, outputs: { notes: 'string' } } },
  {
    name: 'summarize',
    dependsOn: ['check'],
    config: { inputs: { notes: '${check.outputs.notes}' }, outputs: { verdict: 'string' } },
  },
];

const parent = (name: string, source: string): ReturnType<typeof runbook> =>
  runbook(
    name,
    'pipeline',
    [
      { name: 'research', config: { outputs: { topic: 'string' } } },
      {
        name: 'audit',
        runbook: { name: source },
        config: { inputs: { title: '${research.outputs.topic}' }, outputs: { verdict: 'string' } },
      },
      { name: 'publish', config: { inputs: { verdict: '${audit.outputs.verdict}' } } },
    ],
    { budgets: { tokens: { total: 100_000, perAgent: 30_000 } } },
  );

describe('runbooks as stages on a real control plane', function () {
  this.timeout(300_000);
  const env = new RunbookEnv('child', CATALOG, { webhook: true });
  const childrenOf = async (name: string) => {
    const listed = await env.k('get', 'arb', '-l', `${LABEL_PARENT}=${name}`, '-o', 'json');
    expect(listed.code, listed.stderr).to.equal(0);
    return (JSON.parse(listed.stdout) as { items: AgentRunbookJson[] }).items;
  };

  before(async () => {
    await env.start();
    env.script = (call) => {
      const runbookName = call.pod.metadata?.labels?.['i2s.studio/runbook'] ?? '';
      if (runbookName.startsWith('held-')) return 'hold';
      if (call.stage === 'research') return succeed({ topic: 'Audit the task manager' });
      if (call.stage === 'check') return succeed({ notes: `notes on ${String(call.inputs.title)}` });
      if (call.stage === 'summarize') return succeed({ verdict: `fine: ${String(call.inputs.notes)}` });
      return succeed();
    };
    // The library runbook the stages run: suspended, so it never runs by itself.
    await env.apply(runbook('audit-library', 'pipeline', LIBRARY, { suspend: true }));
  });
  after(() => env.stop());

  it('runs the named runbook as a child it owns, with the inputs as its context, and takes its outputs', async () => {
    await env.apply(parent('parent', 'audit-library'));
    await env.waitPhase('parent', 'Succeeded', 90);
    const [child, ...more] = await childrenOf('parent');
    expect(more).to.deep.equal([]);
    const owner = JSON.parse((await env.k('get', 'arb', 'parent', '-o', 'json')).stdout) as AgentRunbookJson;
    expect(child?.metadata.ownerReferences).to.deep.equal([
      {
        apiVersion: 'i2s.studio/v2',
        kind: 'AgentRunbook',
        name: 'parent',
        uid: owner.metadata.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    expect(child?.spec.context?.title).to.equal('Audit the task manager');
    expect(child?.spec.suspend).to.equal(undefined);
    expect(child?.spec.budgets?.tokens?.total, 'capped at the grant').to.be.at.most(30_000);
    expect(child?.status?.phase).to.equal('Succeeded');
    const status = await env.status('parent');
    const audit = status.stages.find((stage) => stage.name === 'audit');
    expect(audit).to.deep.include({
      phase: 'Succeeded',
      child: child?.metadata.name,
      outputs: { notes: 'notes on Audit the task manager', verdict: 'fine: notes on Audit the task manager' },
    });
    const published = env.calls.find(
      (call) => call.stage === 'publish' && call.pod.metadata?.labels?.['i2s.studio/runbook'] === 'parent',
    );
    expect(published?.inputs).to.deep.equal({ verdict: 'fine: notes on Audit the task manager' });
    expect(audit?.usage, "the child's two stages").to.deep.include({ tokens: 200 });
    expect(status.usage, 'research, the child and publish').to.deep.include({ tokens: 400 });
  });

  it('cancelling the parent cancels its running child', async () => {
    await env.apply(runbook('held-library', 'pipeline', LIBRARY, { suspend: true }));
    const held = runbook('held-parent', 'pipeline', [
      { name: 'audit', runbook: { name: 'held-library' }, config: { inputs: { title: 'held' } } },
    ]);
    await env.apply(held);
    await eventually(async () => {
      expect((await childrenOf('held-parent')).length).to.equal(1);
    });
    const patched = await env.k(
      'patch',
      'arb',
      'held-parent',
      '--type=merge',
      '-p',
      '{"spec":{"status":"Cancelled"}}',
    );
    expect(patched.code, patched.stderr).to.equal(0);
    await env.waitPhase('held-parent', 'Cancelled', 60);
    const [child] = await childrenOf('held-parent');
    expect(child?.spec.status).to.equal('Cancelled');
    await env.waitPhase(child?.metadata.name ?? '', 'Cancelled', 60);
  });

  it('refuses a cycle of runbooks at admission, naming the field', async () => {
    await env.apply(parent('loop-b', 'loop-a'));
    const applied = await kubectl(
      env.plane.adminKubeconfigPath,
      ['-n', env.namespace, 'apply', '-f', '-'],
      stringify(parent('loop-a', 'loop-b')),
    );
    expect(applied.code).to.not.equal(0);
    expect(applied.stderr).to.include(
      'spec.agents.pipeline[1].runbook: runs runbooks in a cycle: runbook loop-a -> runbook loop-b -> runbook loop-a',
    );
  });

  it('refuses a writer who may not run what the named runbook runs', async () => {
    const privileged = runbook(
      'privileged-library',
      'pipeline',
      [{ name: 'check', image: 'registry.example/tools/anything:1' }],
      {
        suspend: true,
      },
    );
    await env.apply(privileged);
    await env.grant(
      'runbook-writer',
      [
        {
          apiGroups: ['i2s.studio'],
          resources: ['agentrunbooks'],
          verbs: ['get', 'list', 'create', 'update', 'patch'],
        },
      ],
      ['bob'],
    );
    const made = await env.as('bob', ['apply', '-f', '-'], stringify(parent('bobs', 'privileged-library')));
    expect(made.code).to.not.equal(0);
    expect(made.stderr).to.include(
      "spec.agents.pipeline[1].runbook (runbook privileged-library's spec.agents.pipeline[0].image)",
    );
    const plain = await env.as('bob', ['apply', '-f', '-'], stringify(parent('bobs', 'audit-library')));
    expect(plain.code, plain.stderr).to.equal(0);
  });
});
