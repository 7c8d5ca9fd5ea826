import { expect } from 'chai';
import { stringify } from 'yaml';
import type { Operator } from '../../src/operator/operator.js';
import { ControlPlane } from '../../hack/local-cluster/control-plane.js';
import { FakeNode } from '../../hack/local-cluster/fake-node.js';
import { kubectl } from '../../hack/local-cluster/tools.js';
import { installOperator, startOperator, testNamespace } from '../support/operator-harness.js';
import { scenarioFrom, succeed } from '../support/scripted-agents.js';
import { runbook, waitForPhase } from '../support/runbook-env.js';

describe('the operator across an API server restart', function () {
  this.timeout(180_000);
  let plane: ControlPlane;
  let operator: Operator | undefined;
  let node: FakeNode | undefined;
  let namespace: string;

  const runToSuccess = async (name: string) => {
    const applied = await kubectl(
      plane.adminKubeconfigPath,
      ['-n', namespace, 'apply', '-f', '-'],
      stringify(runbook(name, 'pipeline', [{ name: 'a' }, { name: 'b' }])),
    );
    expect(applied.code, applied.stderr).to.equal(0);
    await waitForPhase(plane.adminKubeconfigPath, namespace, name, 'Succeeded', 90);
  };

  before(async () => {
    plane = await ControlPlane.start();
    const kubeconfig = await installOperator(plane);
    namespace = await testNamespace(plane, 'restart');
    node = new FakeNode(plane.adminConfig(), { namespace, scenario: scenarioFrom(() => succeed()) });
    await node.start();
    operator = await startOperator(
      kubeconfig,
      {
        agents: [
          { name: 'a', image: 'x' },
          { name: 'b', image: 'x' },
        ],
      },
      namespace,
    );
  });

  after(async () => {
    await operator?.stop();
    await node?.stop();
    await plane.stop();
  });

  it('keeps watching and reconciling after kube-apiserver stops and starts again', async () => {
    await runToSuccess('before-restart');
    await plane.restartApiServer();
    await runToSuccess('after-restart');
    const jobs = await kubectl(plane.adminKubeconfigPath, ['-n', namespace, 'get', 'jobs', '-o', 'name']);
    expect(jobs.stdout.trim().split('\n')).to.have.length(4);
  });
});
