import { expect } from 'chai';
import { stringify } from 'yaml';
import type { AgentCatalog } from '../../src/api/catalog.js';
import type { Operator } from '../../src/controller/manager.js';
import type { ControlPlane } from '../support/control-plane.js';
import { FakeNode, type PodOutcome } from '../support/fake-node.js';
import { installOperator, startOperator, testNamespace } from '../support/operator-harness.js';
import { scenarioFrom, succeed, type AgentCall } from '../support/scripted-agents.js';
import { sharedControlPlane } from '../support/shared-control-plane.js';
import { kubectl } from '../support/tools.js';

const CATALOG: AgentCatalog = {
  agents: ['normalize', 'research', 'market', 'synthesis', 'a', 'b', 'c', 'd', 'slow', 'ok'].map((name) => ({
    name,
    image: `registry.example/agents/${name}:1.0.0`,
  })),
};

interface Stage {
  name: string;
  dependsOn?: string[];
  config?: Record<string, unknown>;
  agent?: string;
}

function runbook(name: string, mode: string, stages: Stage[], extra: Record<string, unknown> = {}) {
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

describe('the reconciler on a real control plane', function () {
  this.timeout(120_000);
  let plane: ControlPlane;
  let operatorKubeconfig: string;
  let operator: Operator | undefined;
  let node: FakeNode;
  let namespace: string;
  const calls: AgentCall[] = [];
  let script: (call: AgentCall) => PodOutcome = () => succeed();

  const k = (...args: string[]) => kubectl(plane.adminKubeconfigPath, ['-n', namespace, ...args]);
  const apply = async (object: unknown) => {
    const result = await kubectl(
      plane.adminKubeconfigPath,
      ['-n', namespace, 'apply', '-f', '-'],
      stringify(object),
    );
    expect(result.code, result.stderr).to.equal(0);
  };
  const waitPhase = async (name: string, phase: string, timeout = 60) => {
    const result = await k(
      'wait',
      `--for=jsonpath={.status.phase}=${phase}`,
      `--timeout=${timeout}s`,
      `arb/${name}`,
    );
    if (result.code !== 0) {
      const status = await k('get', 'arb', name, '-o', 'jsonpath={.status}');
      throw new Error(`${name} did not reach ${phase}: ${result.stderr}\nstatus: ${status.stdout}`);
    }
  };
  const status = async (name: string) => {
    const result = await k('get', 'arb', name, '-o', 'json');
    return (
      JSON.parse(result.stdout) as { status: Record<string, unknown> & { stages: Record<string, unknown>[] } }
    ).status;
  };
  const jobsOf = async (name: string) => {
    const result = await k('get', 'jobs', '-l', `i2s.studio/runbook=${name}`, '-o', 'json');
    return (
      JSON.parse(result.stdout) as { items: { metadata: { name: string; labels: Record<string, string> } }[] }
    ).items;
  };

  before(async () => {
    plane = await sharedControlPlane();
    operatorKubeconfig = await installOperator(plane);
    namespace = await testNamespace(plane, 'reconcile');
    node = new FakeNode(plane.adminConfig(), {
      namespace,
      scenario: scenarioFrom((call) => {
        calls.push(call);
        return script(call);
      }),
    });
    await node.start();
    operator = await startOperator(operatorKubeconfig, CATALOG, namespace);
  });

  after(async () => {
    await operator?.stop();
    await node.stop();
  });

  beforeEach(() => {
    script = () => succeed();
  });

  it('pipeline mode: runs normalize then research, passing outputs, and reports usage', async () => {
    script = (call) =>
      call.stage === 'normalize'
        ? succeed(
            { normalized_idea: { summary: `normalized ${String(call.inputs.title)}` } },
            { tokens: 1200, costUSD: '0.12' },
          )
        : succeed(
            { report: `research on ${JSON.stringify(call.inputs.idea)}` },
            { tokens: 800, costUSD: '0.08' },
          );
    await apply(
      runbook('pipeline', 'pipeline', [
        {
          name: 'normalize',
          config: { inputs: { title: '${context.title|slug}' }, outputs: { normalized_idea: 'object' } },
        },
        {
          name: 'research',
          config: { inputs: { idea: '${normalize.outputs.normalized_idea}' }, outputs: { report: 'string' } },
        },
      ]),
    );
    await waitPhase('pipeline', 'Succeeded');
    const research = calls.find((call) => call.namespace === namespace && call.stage === 'research');
    expect(research?.inputs).to.deep.equal({ idea: { summary: 'normalized ai-task-manager' } });
    const final = await status('pipeline');
    expect(final).to.include({ phase: 'Succeeded', progress: '2/2' });
    expect(final.usage).to.deep.equal({ tokens: 2000, costUSD: '0.20' });
    expect(final.stages[1]?.outputs).to.deep.equal({
      report: 'research on {"summary":"normalized ai-task-manager"}',
    });
    const listed = await k('get', 'arb', 'pipeline', '--no-headers');
    expect(listed.stdout.split(/\s+/).slice(0, 5)).to.deep.equal([
      'pipeline',
      'Succeeded',
      '2/2',
      '2000',
      '0.20',
    ]);
  });
});
