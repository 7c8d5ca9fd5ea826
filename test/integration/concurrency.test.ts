/**
 * maxConcurrentPipelines on a real control plane, with the operator as its own process killed
 * (SIGKILL) twice while runbooks wait: never more runbooks run at once than the limit, they start
 * in the order they began to wait, and a queued runbook's clock starts only when it does.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { ControlPlane } from '../../hack/local-cluster/control-plane.js';
import { FakeNode } from '../../hack/local-cluster/fake-node.js';
import { mustRun } from '../../hack/local-cluster/install-operator.js';
import { repoRoot } from '../../hack/local-cluster/paths.js';
import { startOperatorProcess, type CliProcess } from '../support/cli-process.js';
import { installOperator, testNamespace } from '../support/operator-harness.js';
import { scenarioFrom, succeed } from '../support/scripted-agents.js';
import { runbook, waitForPhase } from '../support/runbook-env.js';
import { sharedControlPlane } from '../support/shared-control-plane.js';

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
  let plane: ControlPlane;
  let kubeconfig = '';
  let namespace = '';
  let node: FakeNode;
  let operator: CliProcess | undefined;
  /** Runbooks whose agent runs now, and the most that ever ran at once. */
  const runningNow = new Set<string>();
  let mostAtOnce = 0;
  const started: string[] = [];

  const admin = (...args: string[]) => mustRun(plane.adminKubeconfigPath, ['-n', namespace, ...args]);
  const startOperator = async () => {
    operator = startOperatorProcess({ kubeconfig, config: CATALOG, namespace });
    await operator.waitForOutput('operator started');
  };
  const killOperator = async () => {
    operator?.child.kill('SIGKILL');
    await operator?.exited;
  };
  const status = async (name: string) =>
    (JSON.parse(await admin('get', 'arb', name, '-o', 'json')) as { status?: Status }).status ?? {};
  const waitPhase = (name: string, phase: string) =>
    waitForPhase(plane.adminKubeconfigPath, namespace, name, phase, 90);
  const finish = async (name: string) => {
    const pod = node.heldPods().find((key) => key.startsWith(`${namespace}/${name}-`));
    if (!pod) throw new Error(`no agent of ${name} runs`);
    runningNow.delete(name);
    await node.finish(pod, succeed());
  };

  before(async () => {
    plane = await sharedControlPlane();
    kubeconfig = await installOperator(plane);
    namespace = await testNamespace(plane, 'queue');
    node = new FakeNode(plane.adminConfig(), {
      namespace,
      scenario: scenarioFrom((call) => {
        const name = call.pod.metadata?.labels?.['i2s.studio/runbook'] ?? '';
        runningNow.add(name);
        started.push(name);
        mostAtOnce = Math.max(mostAtOnce, runningNow.size);
        return 'hold';
      }),
    });
    await node.start();
    await startOperator();
  });

  after(async () => {
    await killOperator();
    await node.stop();
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
      await mustRun(plane.adminKubeconfigPath, ['-n', namespace, 'apply', '-f', '-'], stringify(object));
      // Each begins to wait after the one before: the order the queue keeps.
      await waitForPhase(
        plane.adminKubeconfigPath,
        namespace,
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
      `number 1 in line for namespace ${namespace}: 2 of 2 runbooks run (${namespace}/q1, ${namespace}/q2); the limit is this runbook's maxConcurrentPipelines`,
    );
    expect((await status('q5')).conditions?.find((c) => c.type === 'Queued')?.message).to.match(
      /^number 3 in line /,
    );
    const listed = await admin('get', 'arb');
    expect(listed).to.match(/q3\s+Queued/);
  });

  it('after a kill, a restarted operator starts the next in line when one finishes, and never more than the limit', async () => {
    await killOperator();
    await finish('q1');
    await startOperator();
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
    await killOperator();
    await startOperator();
    await waitPhase('q4', 'Running');
    await waitPhase('q5', 'Running');
    await finish('q4');
    await finish('q5');
    for (const name of NAMES) await waitPhase(name, 'Succeeded');
    expect(mostAtOnce).to.equal(LIMIT);
    expect(started).to.deep.equal(NAMES);
  });
});
