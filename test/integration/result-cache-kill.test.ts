/**
 * Stage result caching across operator kills (SIGKILL, the operator as its own process, as
 * concurrency.test.ts does): killed as a cached stage's Pod finishes, and again just as its result
 * is stored, the restarted operator stores each result once, the run succeeds with its outputs,
 * and a later runbook reuses every stage.
 */
import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { CACHE_KIND } from '../../src/api/group.js';
import type { CachedResultJson } from '../../src/kube/types.js';
import { KillableOperator } from '../support/killable-operator.js';
import { eventually } from '../support/eventually.js';
import { runbook, waitForPhase } from '../support/runbook-env.js';
import { scenarioFrom, succeed } from '../support/scripted-agents.js';

const STAGES = [
  { name: 'gather', config: { inputs: { topic: '${context.title}' } } },
  { name: 'digest', dependsOn: ['gather'], config: { inputs: { notes: '${gather.outputs.notes}' } } },
];

describe('stage result caching across operator kills', function () {
  this.timeout(240_000);
  const started: string[] = [];
  const config = join(mkdtempSync(join(tmpdir(), 'cache-kill-')), 'config.yaml');

  const bed = new KillableOperator(
    'cache-kill',
    config,
    scenarioFrom((call) => {
      started.push(`${call.pod.metadata?.labels?.['i2s.studio/runbook'] ?? ''}/${call.stage}`);
      return 'hold';
    }),
  );
  const admin = (...args: string[]) => bed.admin(args);
  const held = (name: string, stage: string) =>
    bed.node.heldPods().find((key) => key.startsWith(`${bed.namespace}/${name}-${stage}-`));
  const stored = async () =>
    (JSON.parse(await admin('get', CACHE_KIND.plural, '-o', 'json')) as { items: CachedResultJson[] }).items;

  before(async () => {
    writeFileSync(
      config,
      stringify({
        agents: STAGES.map(({ name }) => ({ name, image: `registry.example/agents/${name}:1.0.0` })),
      }),
    );
    await bed.start();
  });

  after(async () => {
    await bed.stop();
  });

  it('stores each result once however the kills fall, and a later runbook reuses them all', async () => {
    const object = (name: string) =>
      runbook(name, 'pipeline', STAGES, { execution: { mode: 'pipeline', cache: { maxAge: '1h' } } });
    await bed.admin(['apply', '-f', '-'], stringify(object('first')));
    await bed.node.waitFor(() => held('first', 'gather') !== undefined, 30_000, 'gather running');
    // Killed the moment the Pod reports: the restarted operator folds it and stores its result.
    await bed.node.finish(
      held('first', 'gather') ?? '',
      succeed({ notes: ['n1', 'n2'] }, { tokens: 300, costUSD: '0.03' }),
    );
    await bed.killOperator();
    await bed.startOperator();
    await bed.node.waitFor(() => held('first', 'digest') !== undefined, 30_000, 'digest running');
    // Killed as soon as its result is stored, before (or just after) the status saying so.
    await bed.node.finish(
      held('first', 'digest') ?? '',
      succeed({ summary: 'two notes' }, { tokens: 200, costUSD: '0.02' }),
    );
    await eventually(async () => {
      expect((await stored()).map((result) => result.spec.origin.stage)).to.include('digest');
    });
    await bed.killOperator();
    await bed.startOperator();
    await waitForPhase(bed.plane.adminKubeconfigPath, bed.namespace, 'first', 'Succeeded', 60);
    const results = await stored();
    expect(results.map((result) => result.spec.origin.stage).sort()).to.deep.equal(['digest', 'gather']);
    expect(results.find((result) => result.spec.origin.stage === 'gather')?.spec).to.deep.include({
      outputs: { notes: ['n1', 'n2'] },
      usage: { tokens: 300, costUSD: '0.03' },
    });

    await bed.admin(['apply', '-f', '-'], stringify(object('second')));
    await waitForPhase(bed.plane.adminKubeconfigPath, bed.namespace, 'second', 'Succeeded', 60);
    expect(started.filter((entry) => entry.startsWith('second/'))).to.deep.equal([]);
    const second = JSON.parse(await admin('get', 'arb', 'second', '-o', 'json')) as {
      status: { metrics: Record<string, unknown>; stages: { outputs?: unknown }[] };
    };
    expect(second.status.metrics).to.deep.include({ cachedStages: 2, tokensSaved: 500, costSaved: '0.05' });
    expect(second.status.stages.map((stage) => stage.outputs)).to.deep.equal([
      { notes: ['n1', 'n2'] },
      { summary: 'two notes' },
    ]);
  });
});
