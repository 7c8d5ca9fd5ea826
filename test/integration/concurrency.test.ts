/**
 * maxConcurrentPipelines on a real control plane, with the operator as its own process killed
 * (SIGKILL) twice while runbooks wait: never more runbooks run at once than the limit, they start
 * in the order they began to wait, and a queued runbook's clock starts only when it does.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { repoRoot } from '../../hack/local-cluster/paths.js';
import { KillableOperator } from '../support/killable-operator.js';
import { scenarioFrom, succeed } from '../support/scripted-agents.js';
import { runbook, waitForPhase } from '../support/runbook-env.js';

const CATALOG = join(repoRoot, 'config', 'samples', 'operator-config.yaml');
const LIMIT = 2;
const NAMES = ['q1', 'q2', 'q3', 'q4', 'q5'];

interface Status {
  phase?: string;
  startTime?: string;
  completionTime?: string;
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
}

describe('maxConcurrentPipelines: runbooks wait their turn, across operator kills', function () {
  this.timeout(240_000);
  /** Runbooks whose agent runs now, and the most that ever ran at once. */
  const runningNow = new Set<string>();
  let mostAtOnce = 0;
  const started: string[] = [];

  const bed = new KillableOperator(
    'queue',
    CATALOG,
    scenarioFrom((call) => {
      const name = call.pod.metadata?.labels?.['i2s.studio/runbook'] ?? '';
      runningNow.add(name);
      started.push(name);
      mostAtOnce = Math.max(mostAtOnce, runningNow.size);
      return 'hold';
    }),
  );
  const admin = (...args: string[]) => bed.admin(args);
  const status = async (name: string) =>
    (JSON.parse(await admin('get', 'arb', name, '-o', 'json')) as { status?: Status }).status ?? {};
  const waitPhase = (name: string, phase: string) =>
    waitForPhase(bed.plane.adminKubeconfigPath, bed.namespace, name, phase, 90);
  const finish = async (name: string) => {
    const pod = bed.node.heldPods().find((key) => key.startsWith(`${bed.namespace}/${name}-`));
    if (!pod) throw new Error(`no agent of ${name} runs`);
    runningNow.delete(name);
    await bed.node.finish(pod, succeed());
  };

  before(async () => {
    await bed.start();
  });

  after(async () => {
    await bed.stop();
  });

  it('queues the runbooks over the limit in order, saying their place and what they wait for', async () => {
    for (const name of NAMES) {
      const object = runbook(name, 'pipeline', [{ name: 'work' }], {
        budgets: { time: { total: '10m' } },
        agents: {
          pipeline: [{ name: 'work', agent: 'normalize' }],
          core: { conductor: { config: { maxConcurrentPipelines: LIMIT } } },
        },
      });
      await bed.admin(['apply', '-f', '-'], stringify(object));
      // Each begins to wait after the one before: the order the queue keeps.
      await waitForPhase(
        bed.plane.adminKubeconfigPath,
        bed.namespace,
        name,
        NAMES.indexOf(name) < LIMIT ? 'Running' : 'Queued',
        60,
      );
    }
    const q3 = await status('q3');
    expect(q3.startTime).to.equal(undefined);
    const queued = q3.conditions?.find((condition) => condition.type === 'Queued');
    expect(queued).to.deep.include({ status: 'True', reason: 'WaitingForSlot' });
    expect(queued?.message).to.equal(
      `number 1 in line for namespace ${bed.namespace}: 2 of 2 runbooks run (${bed.namespace}/q1, ${bed.namespace}/q2); the limit is this runbook's maxConcurrentPipelines`,
    );
    expect((await status('q5')).conditions?.find((c) => c.type === 'Queued')?.message).to.match(
      /^number 3 in line /,
    );
    const listed = await admin('get', 'arb');
    expect(listed).to.match(/q3\s+Queued/);
  });

  it('after a kill, a restarted operator starts the next in line when one finishes, and never more than the limit', async () => {
    await bed.killOperator();
    await finish('q1');
    await bed.startOperator();
    await waitPhase('q1', 'Succeeded');
    await waitPhase('q3', 'Running');
    expect((await status('q4')).conditions?.find((c) => c.type === 'Queued')?.message).to.match(
      /^number 1 in line /,
    );
    const q1 = await status('q1');
    const q3 = await status('q3');
    // q3's clock began when it started, after q1 ended, not when it was queued.
    expect(Date.parse(q3.startTime ?? '')).to.be.at.least(Date.parse(q1.completionTime ?? '') - 1000);
    expect(q3.conditions?.find((c) => c.type === 'Queued')).to.deep.include({
      status: 'False',
      reason: 'Started',
    });

    // Two finish at once and the operator dies right after: the two next in line start, no more.
    await finish('q2');
    await finish('q3');
    await bed.killOperator();
    await bed.startOperator();
    await waitPhase('q4', 'Running');
    await waitPhase('q5', 'Running');
    await finish('q4');
    await finish('q5');
    for (const name of NAMES) await waitPhase(name, 'Succeeded');
    expect(mostAtOnce).to.equal(LIMIT);
    expect(started).to.deep.equal(NAMES);
  });
});
