import { expect } from 'chai';
import { stringify } from 'yaml';
import { join } from 'node:path';
import { OPERATOR_NAMESPACE } from '../../src/operator/rbac.js';
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
const LEASE_DURATION_MS = 15_000;

describe('leader election: two operator processes', function () {
  this.timeout(180_000);
  let plane: ControlPlane;
  let kubeconfig = '';
  let namespace = '';
  let node: FakeNode;
  let holding = true;
  const processes: CliProcess[] = [];

  const admin = (...args: string[]) => mustRun(plane.adminKubeconfigPath, args);
  const startReplica = () => {
    const replica = startOperatorProcess({ kubeconfig, config: CATALOG, namespace }, [
      '--leader-elect',
      `--leader-election-id=leader-${namespace}`,
    ]);
    processes.push(replica);
    return replica;
  };
  const apply = (name: string) =>
    mustRun(
      plane.adminKubeconfigPath,
      ['-n', namespace, 'apply', '-f', '-'],
      stringify(runbook(name, 'pipeline', [{ name: 'normalize' }, { name: 'research' }])),
    );
  const waitSucceeded = (name: string) =>
    waitForPhase(plane.adminKubeconfigPath, namespace, name, 'Succeeded', 90);
  const jobStages = async () => {
    const out = await admin(
      '-n',
      namespace,
      'get',
      'jobs',
      '-o',
      'jsonpath={range .items[*]}{.metadata.labels.i2s\\.studio/runbook}/{.metadata.labels.i2s\\.studio/stage}{"\\n"}{end}',
    );
    return out.split('\n').filter(Boolean).sort();
  };
  const releaseHeldPods = async () => {
    holding = false;
    for (const pod of node.heldPods()) await node.finish(pod, succeed());
  };

  before(async () => {
    plane = await sharedControlPlane();
    kubeconfig = await installOperator(plane);
    namespace = await testNamespace(plane, 'leader');
    node = new FakeNode(plane.adminConfig(), {
      namespace,
      // Agents run until the test lets them finish, so a replica can be stopped mid-run.
      scenario: scenarioFrom(() => (holding ? 'hold' : succeed())),
    });
    await node.start();
  });

  after(async () => {
    for (const replica of processes) replica.child.kill('SIGKILL');
    await Promise.all(processes.map((replica) => replica.exited));
    await node.stop();
  });

  it('only the leader reconciles; when it is killed mid-run the other finishes with no duplicate Job', async () => {
    const first = startReplica();
    await first.waitForOutput('operator started');
    const second = startReplica();
    await second.waitForOutput('caches synced');

    await apply('killed-mid-run');
    await node.waitFor(() => node.heldPods().length === 1, 60_000, 'the first stage to run');
    expect(second.output(), 'the standby started its workers').not.to.contain('operator started');

    first.child.kill('SIGKILL');
    await first.exited;
    await second.waitForOutput('operator started');
    await releaseHeldPods();
    await waitSucceeded('killed-mid-run');
    expect(await jobStages()).to.deep.equal(['killed-mid-run/normalize', 'killed-mid-run/research']);
  });

  it('hands over within seconds, not a lease period, when the leader is stopped with SIGTERM', async () => {
    const [, leader] = processes;
    if (!leader) throw new Error('the previous test left no leader');
    const standby = startReplica();
    await standby.waitForOutput('caches synced');
    holding = true;
    await apply('handed-over');
    await node.waitFor(() => node.heldPods().length === 1, 60_000, 'the first stage to run');

    const stoppedAt = Date.now();
    leader.child.kill('SIGTERM');
    await standby.waitForOutput('operator started');
    const handover = Date.now() - stoppedAt;
    expect(await leader.exited, leader.output()).to.equal(0);
    expect(leader.output()).to.contain('released the lease');
    expect(handover, `handover took ${handover} ms`).to.be.below(LEASE_DURATION_MS);

    await releaseHeldPods();
    await waitSucceeded('handed-over');
    expect(await jobStages()).to.deep.equal([
      'handed-over/normalize',
      'handed-over/research',
      'killed-mid-run/normalize',
      'killed-mid-run/research',
    ]);
    const transitions = await admin(
      '-n',
      OPERATOR_NAMESPACE,
      'get',
      'lease',
      `leader-${namespace}`,
      '-o',
      'jsonpath={.spec.leaseTransitions}',
    );
    expect(Number(transitions)).to.equal(2);
  });
});
