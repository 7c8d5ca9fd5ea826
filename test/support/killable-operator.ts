/**
 * What the kill suites stand on: a namespace of the shared control plane, a fake node whose Pods
 * follow the suite's scenario, and the operator as its own process under its ServiceAccount, which
 * a test kills (SIGKILL) and starts again.
 */
import type { ControlPlane } from '../../hack/local-cluster/control-plane.js';
import { FakeNode, type Scenario } from '../../hack/local-cluster/fake-node.js';
import { mustRun } from '../../hack/local-cluster/install-operator.js';
import { startOperatorProcess, type CliProcess } from './cli-process.js';
import { installOperator, testNamespace } from './operator-harness.js';
import { sharedControlPlane } from './shared-control-plane.js';

export class KillableOperator {
  plane!: ControlPlane;
  namespace = '';
  node!: FakeNode;
  private kubeconfig = '';
  private operator: CliProcess | undefined;

  /** `config`: the operator's configuration file; `scenario`: how the fake node runs Pods. */
  constructor(
    private readonly prefix: string,
    private readonly config: string,
    private readonly scenario: Scenario,
  ) {}

  async start(): Promise<void> {
    this.plane = await sharedControlPlane();
    this.kubeconfig = await installOperator(this.plane);
    this.namespace = await testNamespace(this.plane, this.prefix);
    this.node = new FakeNode(this.plane.adminConfig(), {
      namespace: this.namespace,
      scenario: this.scenario,
    });
    await this.node.start();
    await this.startOperator();
  }

  async startOperator(): Promise<void> {
    this.operator = startOperatorProcess({
      kubeconfig: this.kubeconfig,
      config: this.config,
      namespace: this.namespace,
    });
    await this.operator.waitForOutput('operator started');
  }

  async killOperator(): Promise<void> {
    this.operator?.child.kill('SIGKILL');
    await this.operator?.exited;
  }

  async stop(): Promise<void> {
    await this.killOperator();
    await this.node.stop();
  }

  /** kubectl in the namespace as the cluster's admin; fails on a non-zero exit. */
  admin(args: string[], input?: string): Promise<string> {
    return mustRun(this.plane.adminKubeconfigPath, ['-n', this.namespace, ...args], input);
  }
}
