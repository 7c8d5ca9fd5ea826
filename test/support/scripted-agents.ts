/** Agents for integration tests: the fake node answers each agent Pod as the test's script says. */
import type { V1Pod } from '@kubernetes/client-node';
import { ENV } from '../../src/api/agent-contract.js';
import type { PodOutcome, PodResult, Scenario } from '../../hack/local-cluster/fake-node.js';

export interface AgentCall {
  namespace: string;
  stage: string;
  agent: string;
  attempt: number;
  inputs: Record<string, unknown>;
  outputs: Record<string, string>;
  pod: V1Pod;
}

export type AgentScript = (call: AgentCall) => PodOutcome;

function env(pod: V1Pod, name: string): string | undefined {
  return pod.spec?.containers[0]?.env?.find((variable) => variable.name === name)?.value;
}

export function scenarioFrom(script: AgentScript): Scenario {
  return (pod) =>
    script({
      namespace: pod.metadata?.namespace ?? '',
      stage: env(pod, ENV.stage) ?? '',
      agent: env(pod, ENV.agent) ?? '',
      attempt: Number(env(pod, ENV.attempt) ?? '0'),
      inputs: JSON.parse(env(pod, ENV.inputs) ?? '{}') as Record<string, unknown>,
      outputs: JSON.parse(env(pod, ENV.outputs) ?? '{}') as Record<string, string>,
      pod,
    });
}

export function succeed(
  outputs: Record<string, unknown> = {},
  usage = { tokens: 100, costUSD: '0.01' },
): PodResult {
  return { phase: 'Succeeded', message: JSON.stringify({ outputs, usage }) };
}
