/**
 * forEach, when and child runbooks on a real control plane, with the operator as its own process
 * killed while items run and as a child is created (as result-cache-kill.test.ts does): every item
 * runs as exactly one Job, labelled with its stage and index, the outputs arrive as one list in
 * item order, a stage whose `when` is false is skipped while its dependent runs with the declared
 * default, and each attempt of a stage that runs a runbook has exactly one child.
 */
import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { LABEL_ITEM, LABEL_PARENT, LABEL_STAGE } from '../../src/api/labels.js';
import type { JobJson } from '../../src/kube/types.js';
import { KillableOperator } from '../support/killable-operator.js';
import { runbook, waitForPhase, type StageSketch } from '../support/runbook-env.js';
import { scenarioFrom, succeed, type AgentCall } from '../support/scripted-agents.js';

const ITEMS = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta'];
const STAGES: StageSketch[] = [
  { name: 'list', config: { outputs: { names: 'array' } } },
  {
    name: 'each',
    forEach: '${list.outputs.names}',
    maxParallel: 3,
    config: { inputs: { name: '${item}', at: '${index}' }, outputs: { upper: 'string' } },
  },
  {
    name: 'review',
    when: 'size(outputs.list.names) > 100',
    skippedOutputs: { verdict: 'not needed' },
    config: { outputs: { verdict: 'string' } },
  },
  {
    name: 'final',
    dependsOn: ['each', 'review'],
    config: { inputs: { uppers: '${each.outputs.upper}', verdict: '${review.outputs.verdict}' } },
  },
];

describe('forEach, when and child runbooks across operator kills', function () {
  this.timeout(240_000);
  const calls = new Map<string, AgentCall>();
  const config = join(mkdtempSync(join(tmpdir(), 'fan-out-')), 'config.yaml');

  const bed = new KillableOperator(
    'fan-out',
    config,
    scenarioFrom((call) => {
      calls.set(`${call.namespace}/${call.pod.metadata?.name ?? ''}`, call);
      return 'hold';
    }),
  );
  const admin = (...args: string[]) => bed.admin(args);
  const heldItems = () => bed.node.heldPods().filter((key) => calls.get(key)?.stage.startsWith('each['));
  const finishItem = (key: string) => {
    const call = calls.get(key);
    return bed.node.finish(key, succeed({ upper: String(call?.inputs.name).toUpperCase() }));
  };

  before(async () => {
    writeFileSync(
      config,
      stringify({
        agents: ['list', 'each', 'review', 'final', 'check'].map((name) => ({
          name,
          image: `registry.example/agents/${name}:1.0.0`,
        })),
      }),
    );
    await bed.start();
  });

  after(async () => {
    await bed.stop();
  });

  it('runs each item once however the kills fall, gathers the outputs in order and skips by when', async () => {
    await bed.admin(['apply', '-f', '-'], stringify(runbook('fan', 'hybrid', STAGES)));
    const first = () => bed.node.heldPods().find((key) => calls.get(key)?.stage === 'list');
    await bed.node.waitFor(() => first() !== undefined, 30_000, 'list running');
    await bed.node.finish(first() ?? '', succeed({ names: ITEMS }));
    await bed.node.waitFor(() => heldItems().length === 3, 30_000, 'three items running (maxParallel)');
    expect(
      heldItems()
        .map((key) => calls.get(key)?.stage)
        .sort(),
    ).to.deep.equal(['each[0]', 'each[1]', 'each[2]']);
    // Killed as two items report: the restarted operator folds them and starts the next two.
    const [a, b] = heldItems();
    await Promise.all([finishItem(a ?? ''), finishItem(b ?? '')]);
    await bed.killOperator();
    await bed.startOperator();
    await bed.node.waitFor(() => heldItems().length === 3, 30_000, 'the next items running');
    // Killed again at once after the items are started: the status that holds them is written.
    await Promise.all(heldItems().map(finishItem));
    await bed.killOperator();
    await bed.startOperator();
    while (calls.size < 1 + ITEMS.length || heldItems().length) {
      await bed.node.waitFor(
        () => heldItems().length > 0 || calls.size >= 1 + ITEMS.length,
        30_000,
        'items running',
      );
      await Promise.all(heldItems().map(finishItem));
      if (calls.size >= 1 + ITEMS.length && heldItems().length === 0) break;
    }
    const last = () => bed.node.heldPods().find((key) => calls.get(key)?.stage === 'final');
    await bed.node.waitFor(() => last() !== undefined, 30_000, 'final running');
    const finalCall = calls.get(last() ?? '');
    expect(finalCall?.inputs).to.deep.equal({
      uppers: ITEMS.map((name) => name.toUpperCase()),
      verdict: 'not needed',
    });
    await bed.node.finish(last() ?? '', succeed());
    await waitForPhase(bed.plane.adminKubeconfigPath, bed.namespace, 'fan', 'Succeeded', 60);

    const jobs = (
      JSON.parse(await admin('get', 'jobs', '-l', `${LABEL_STAGE}=each`, '-o', 'json')) as {
        items: JobJson[];
      }
    ).items;
    const items = jobs.map((job) => job.metadata.labels?.[LABEL_ITEM]).sort((x, y) => Number(x) - Number(y));
    expect(items, 'one Job per item, none twice').to.deep.equal(ITEMS.map((_, index) => String(index)));
    const status = (
      JSON.parse(await admin('get', 'arb', 'fan', '-o', 'json')) as {
        status: {
          progress: string;
          stages: { name: string; phase: string; reason?: string; items?: unknown }[];
        };
      }
    ).status;
    expect(status.progress).to.equal('4/4');
    expect(status.stages.map((stage) => [stage.name, stage.phase, stage.reason])).to.deep.equal([
      ['list', 'Succeeded', 'Succeeded'],
      ['each', 'Succeeded', 'Succeeded'],
      ['review', 'Skipped', 'ConditionNotMet'],
      ['final', 'Succeeded', 'Succeeded'],
    ]);
    expect(status.stages[1]?.items).to.deep.include({
      count: 7,
      succeeded: 7,
      failed: 0,
      succeededIndexes: '0-6',
    });
    const events = (
      JSON.parse(
        await admin('get', 'events', '--field-selector', 'involvedObject.name=fan', '-o', 'json'),
      ) as { items: { message: string }[] }
    ).items.map((event) => event.message);
    // The fan-out's progress is in status (above); Events tell what went differently than planned.
    expect(events).to.include('stage review skipped: when size(outputs.list.names) > 100 is false');
    expect(events.filter((message) => message.startsWith('stage each'))).to.deep.equal([]);
  });

  it('creates one child per attempt of a stage that runs a runbook, however the kills fall', async () => {
    const apply = (object: unknown) => bed.admin(['apply', '-f', '-'], stringify(object));
    await apply(
      runbook('library', 'pipeline', [{ name: 'check', config: { outputs: { ok: 'boolean' } } }], {
        suspend: true,
      }),
    );
    await apply(
      runbook('host', 'pipeline', [
        {
          name: 'sub',
          runbook: { name: 'library' },
          config: { inputs: { title: 'hosted' }, outputs: { ok: 'boolean' } },
        },
      ]),
    );
    const children = async () =>
      (
        JSON.parse(await admin('get', 'arb', '-l', `${LABEL_PARENT}=host`, '-o', 'json')) as {
          items: { metadata: { name: string } }[];
        }
      ).items;
    const check = () =>
      bed.node.heldPods().find((key) => calls.get(key)?.stage === 'check' && !key.includes('/library-'));
    // Killed as soon as the child exists: the restarted operator finds it and creates no other.
    await bed.node.waitFor(() => check() !== undefined, 30_000, "the child's stage running");
    await bed.killOperator();
    await bed.startOperator();
    await bed.node.finish(check() ?? '', succeed({ ok: true }));
    await waitForPhase(bed.plane.adminKubeconfigPath, bed.namespace, 'host', 'Succeeded', 60);
    expect((await children()).length, 'one child').to.equal(1);
    const status = JSON.parse(await admin('get', 'arb', 'host', '-o', 'json')) as {
      status: { stages: { name: string; outputs?: unknown; child?: string }[] };
    };
    expect(status.status.stages[0]).to.deep.include({
      outputs: { ok: true },
      child: (await children())[0]?.metadata.name,
    });
  });
});
