/**
 * Agents for integration tests: the fake node answers each agent Pod as the test's script says.
 * The script sees the assignment as the agent SDK reads it, from the files the fake node mounted
 * and the container's environment, so tests go through the same path as an agent in a cluster.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { ENV } from '../../src/api/agent-contract.js';
import type { AgentCatalog } from '../../src/api/catalog.js';
import { readAssignment } from '../../src/agent/sdk.js';
import type { PodOutcome, PodResult, Scenario } from '../../hack/local-cluster/fake-node.js';
import { writeFiles } from '../../hack/local-cluster/pod-volumes.js';

export interface AgentCall {
  namespace: string;
  stage: string;
  agent: string;
  attempt: number;
  inputs: Record<string, unknown>;
  outputs: Record<string, string>;
  /** The files of the Pod's volume, by path (inputs.json, outputs/<stage>/<output>, ...). */
  files: ReadonlyMap<string, string>;
  pod: V1Pod;
}

export type AgentScript = (call: AgentCall) => PodOutcome;

export function scenarioFrom(script: AgentScript): Scenario {
  return (pod, { files, env }) => {
    const dir = mkdtempSync(join(tmpdir(), 'agentrunbook-files-'));
    try {
      writeFiles(dir, files);
      const work = readAssignment({ ...env, [ENV.filesDir]: dir });
      return script({
        namespace: pod.metadata?.namespace ?? '',
        stage: work.stage,
        agent: work.agent,
        attempt: work.attempt,
        inputs: work.inputs,
        outputs: work.outputs,
        files,
        pod,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

export function succeed(
  outputs: Record<string, unknown> = {},
  usage = { tokens: 100, costUSD: '0.01' },
): PodResult {
  return { phase: 'Succeeded', message: JSON.stringify({ outputs, usage }) };
}

/** The agents the template library's stages name, each on an image of its own. */
export const LIBRARY_CATALOG: AgentCatalog = {
  agents: [
    'normalize',
    'research',
    'market_analyst',
    'synthesis',
    'security',
    'librarian',
    'performance',
  ].map((name) => ({ name, image: `registry.example/agents/${name}:1.0.0` })),
};

/** What an agent reports for each declared output type. */
const SAMPLE: Record<string, unknown> = {
  object: { ok: true },
  array: [],
  string: 'done',
  number: 1,
  integer: 1,
  boolean: true,
};

/** Succeeds with a sample value for each output the stage declares. */
export const succeedWithDeclaredOutputs: AgentScript = (call) =>
  succeed(
    Object.fromEntries(Object.entries(call.outputs).map(([name, type]) => [name, SAMPLE[type] ?? null])),
  );
