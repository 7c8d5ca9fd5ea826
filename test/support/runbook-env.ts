/**
 * One namespace on the shared control plane with the operator (under its ServiceAccount) and a
 * fake node whose agents follow the test's script: what the integration suites of the operator
 * stand on.
 */
import { expect } from 'chai';
import { stringify } from 'yaml';
import { newGateDecision } from '../../src/api/v2/gate-decision.js';
import type { AgentCatalog } from '../../src/api/catalog.js';
import type { Operator } from '../../src/operator/operator.js';
import { ControlPlane } from '../../hack/local-cluster/control-plane.js';
import { freePort } from '../../hack/local-cluster/ports.js';
import { FakeNode, type PodOutcome, type Scenario } from '../../hack/local-cluster/fake-node.js';
import { kubectl } from '../../hack/local-cluster/tools.js';
import { installOperator, startOperator, startWebhookOperator, testNamespace } from './operator-harness.js';
import { scenarioFrom, succeed, type AgentCall } from './scripted-agents.js';
import { sharedControlPlane } from './shared-control-plane.js';

export interface StageSketch {
  name: string;
  dependsOn?: string[];
  config?: Record<string, unknown>;
  agent?: string;
  workspaces?: { name: string; mountPath?: string; readOnly?: boolean }[];
  cache?: Record<string, unknown>;
  when?: string;
  skippedOutputs?: Record<string, unknown>;
  forEach?: unknown;
  maxParallel?: number;
  onItemFailure?: string;
  runbook?: { name?: string; template?: { name: string; kind?: string } };
  image?: string;
}

/** A runbook with a context the stages can refer to; `extra` is merged into the spec. */
export function runbook(
  name: string,
  mode: string,
  stages: StageSketch[],
  extra: Record<string, unknown> = {},
) {
  return {
    apiVersion: 'i2s.studio/v2',
    kind: 'AgentRunbook',
    metadata: { name },
    spec: {
      version: '1.0.0',
      context: {
        title: 'AI Task Manager',
        ideaText: 'An assistant that plans the day from calendar and inbox.',
      },
      execution: { mode, parallelism: 5 },
      agents: { pipeline: stages },
      ...extra,
    },
  };
}

/**
 * A GatePolicy that adds a four-eyes gate `prod-signoff` to the namespace's runbooks labelled
 * tier=prod: a gate their author can neither remove nor decide.
 */
export function prodReviewPolicy(namespace: string) {
  return {
    apiVersion: 'i2s.studio/v2',
    kind: 'GatePolicy',
    metadata: { name: 'prod-review', namespace },
    spec: {
      match: { runbookSelector: { matchLabels: { tier: 'prod' } } },
      gates: [{ name: 'prod-signoff', required: true, approvals: { excludeAuthor: true } }],
    },
  };
}

/** Waits until runbook `name` reaches `phase`; a failure says what its status was instead. */
export async function waitForPhase(
  kubeconfig: string,
  namespace: string,
  name: string,
  phase: string,
  timeoutSeconds = 60,
): Promise<void> {
  const k = (...args: string[]) => kubectl(kubeconfig, ['-n', namespace, ...args]);
  const deadline = Date.now() + timeoutSeconds * 1000;
  let result = await k(
    'wait',
    `--for=jsonpath={.status.phase}=${phase}`,
    `--timeout=${timeoutSeconds}s`,
    `arb/${name}`,
  );
  // Under load the API server's cache may not have a just-created object yet: wait does not wait for
  // an object it cannot find, so it is asked again until the deadline.
  while (result.code !== 0 && /NotFound/.test(result.stderr) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const left = Math.max(1, Math.ceil((deadline - Date.now()) / 1000));
    result = await k('wait', `--for=jsonpath={.status.phase}=${phase}`, `--timeout=${left}s`, `arb/${name}`);
  }
  if (result.code !== 0) {
    const status = await k('get', 'arb', name, '-o', 'jsonpath={.status}');
    throw new Error(`${name} did not reach ${phase}: ${result.stderr}\nstatus: ${status.stdout}`);
  }
}

export interface RunbookStatus extends Record<string, unknown> {
  stages: (Record<string, unknown> & { name: string })[];
  conditions?: { type: string; status: string; reason: string; message: string }[];
  gates?: Record<string, unknown>[];
  notices?: { name: string; time: string }[];
}

export interface JobSummary {
  metadata: { name: string; labels: Record<string, string>; creationTimestamp: string };
  spec: { template: { spec: { containers: { image: string; env: { name: string; value: string }[] }[] } } };
}

export class RunbookEnv {
  plane!: ControlPlane;
  namespace = '';
  node!: FakeNode;
  operator: Operator | undefined;
  operatorKubeconfig = '';
  readonly calls: AgentCall[] = [];
  script: (call: AgentCall) => PodOutcome = () => succeed();

  /**
   * With `webhook`, the operator serves its admission webhooks too; their registration is
   * cluster-wide, so the suite gets a control plane of its own.
   */
  constructor(
    private readonly prefix: string,
    public catalog: AgentCatalog,
    /** scenario: how the fake node runs Pods, instead of through `script`. */
    private readonly options: { webhook?: boolean; scenario?: Scenario } = {},
  ) {}

  /** The fake node's default scenario: each Pod is answered by `script`, and recorded in `calls`. */
  readonly scripted: Scenario = scenarioFrom((call) => {
    this.calls.push(call);
    return this.script(call);
  });

  async start(): Promise<void> {
    this.plane = this.options.webhook ? await ControlPlane.start() : await sharedControlPlane();
    this.operatorKubeconfig = await installOperator(this.plane);
    this.namespace = await testNamespace(this.plane, this.prefix);
    this.node = new FakeNode(this.plane.adminConfig(), {
      namespace: this.namespace,
      scenario: this.options.scenario ?? this.scripted,
    });
    await this.node.start();
    await this.startOperator();
  }

  async startOperator(): Promise<void> {
    this.operator = this.options.webhook
      ? await startWebhookOperator(this.operatorKubeconfig, {
          port: await freePort(),
          catalog: this.catalog,
          namespace: this.namespace,
        })
      : await startOperator(this.operatorKubeconfig, this.catalog, this.namespace);
  }

  async stopOperator(): Promise<void> {
    await this.operator?.stop();
    this.operator = undefined;
  }

  async stop(): Promise<void> {
    await this.stopOperator();
    await this.node.stop();
    if (this.options.webhook) await this.plane.stop();
  }

  k(...args: string[]) {
    return kubectl(this.plane.adminKubeconfigPath, ['-n', this.namespace, ...args]);
  }

  async apply(object: unknown): Promise<void> {
    const result = await kubectl(
      this.plane.adminKubeconfigPath,
      ['-n', this.namespace, 'apply', '-f', '-'],
      stringify(object),
    );
    expect(result.code, result.stderr).to.equal(0);
  }

  /** kubectl in the namespace as another user (the admin kubeconfig may impersonate). */
  as(user: string, args: string[], stdin?: string) {
    return kubectl(this.plane.adminKubeconfigPath, ['--as', user, '-n', this.namespace, ...args], stdin);
  }

  /**
   * Decides a gate as `agentrunbook approve|reject` does: a GateDecision, made as `user` (the
   * admin when absent). The admission webhook takes it only while the gate waits for a decision.
   */
  decide(
    name: string,
    gate: string,
    {
      decision = 'Approved',
      user = '',
      comment = '',
    }: { decision?: 'Approved' | 'Rejected'; user?: string; comment?: string } = {},
  ) {
    const object = newGateDecision({
      namespace: this.namespace,
      runbook: name,
      gate,
      decision,
      ...(comment ? { comment } : {}),
    });
    const args = ['create', '-o', 'name', '-f', '-'];
    return user
      ? this.as(user, args, stringify(object))
      : kubectl(this.plane.adminKubeconfigPath, ['-n', this.namespace, ...args], stringify(object));
  }

  /** Approves a gate once it waits for a decision (polls the status until then, within the deadline). */
  async approve(name: string, gate: string, timeoutSeconds = 60): Promise<void> {
    const deadline = Date.now() + timeoutSeconds * 1000;
    for (;;) {
      const row = (await this.status(name)).gates?.find((candidate) => candidate.name === gate);
      if (row?.phase === 'Pending' && row.since) break;
      if (Date.now() > deadline)
        throw new Error(`gate ${gate} of ${name} never waited: ${JSON.stringify(row)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const made = await this.decide(name, gate);
    expect(made.code, made.stderr).to.equal(0);
  }

  /** A Role in the namespace with these rules, bound to each user. */
  async grant(
    role: string,
    rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[],
    users: string[],
  ): Promise<void> {
    const rbac = 'rbac.authorization.k8s.io';
    const objects = [
      { apiVersion: `${rbac}/v1`, kind: 'Role', metadata: { name: role, namespace: this.namespace }, rules },
      ...users.map((user) => ({
        apiVersion: `${rbac}/v1`,
        kind: 'RoleBinding',
        metadata: { name: `${role}-${user}`, namespace: this.namespace },
        roleRef: { apiGroup: rbac, kind: 'Role', name: role },
        subjects: [{ apiGroup: rbac, kind: 'User', name: user }],
      })),
    ];
    const applied = await kubectl(
      this.plane.adminKubeconfigPath,
      ['apply', '-f', '-'],
      objects.map((object) => stringify(object)).join('---\n'),
    );
    expect(applied.code, applied.stderr).to.equal(0);
  }

  waitPhase(name: string, phase: string, timeoutSeconds = 60): Promise<void> {
    return waitForPhase(this.plane.adminKubeconfigPath, this.namespace, name, phase, timeoutSeconds);
  }

  async status(name: string): Promise<RunbookStatus> {
    const result = await this.k('get', 'arb', name, '-o', 'json');
    return (JSON.parse(result.stdout) as { status: RunbookStatus }).status;
  }

  async condition(name: string, type: string) {
    return (await this.status(name)).conditions?.find((condition) => condition.type === type);
  }

  /** Waits until no Job matches the label selector (they were deleted), failing after 30 s. */
  async waitJobsGone(selector: string): Promise<void> {
    const gone = await this.k('wait', '--for=delete', '--timeout=30s', 'jobs', '-l', selector);
    expect(gone.code, gone.stderr).to.equal(0);
  }

  /** How many Events of this reason the runbook has. */
  async eventCount(name: string, reason: string): Promise<number> {
    const events = await this.k(
      'get',
      'events',
      '--field-selector',
      `involvedObject.name=${name},reason=${reason}`,
      '-o',
      'name',
    );
    return events.stdout.trim().split('\n').filter(Boolean).length;
  }

  async jobsOf(name: string): Promise<JobSummary[]> {
    const result = await this.k('get', 'jobs', '-l', `i2s.studio/runbook=${name}`, '-o', 'json');
    return (JSON.parse(result.stdout) as { items: JobSummary[] }).items;
  }

  /** Pods of this namespace that the fake node holds Running, for runbook `name`. */
  held(name: string): string[] {
    return this.node.heldPods().filter((pod) => pod.startsWith(`${this.namespace}/${name}-`));
  }
}
