/**
 * The agent side of the contract (src/api/agent-contract.ts): read the assignment the operator
 * put in the environment, do the work, write one report to the termination message.
 */
import { writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import {
  ENV,
  REPORT_LINE_PREFIX,
  TERMINATION_MESSAGE_LIMIT,
  TERMINATION_MESSAGE_PATH,
  type AgentBudget,
  type AgentReport,
} from '../api/agent-contract.js';

export type OutputType = 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array';

export interface Assignment {
  runbook: string;
  namespace: string;
  stage: string;
  agent: string;
  version?: string;
  attempt: number;
  inputs: Record<string, unknown>;
  parameters: Record<string, unknown>;
  outputs: Record<string, OutputType>;
  budget: AgentBudget;
}

function json<T>(env: NodeJS.ProcessEnv, name: string, fallback: T): T {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new Error(`${name} is not JSON: ${(error as Error).message}`);
  }
}

export function readAssignment(env: NodeJS.ProcessEnv = process.env): Assignment {
  const stage = env[ENV.stage];
  if (!stage) throw new Error(`${ENV.stage} is not set: this program runs as an AgentRunbook stage`);
  return {
    runbook: env[ENV.runbook] ?? '',
    namespace: env[ENV.namespace] ?? '',
    stage,
    agent: env[ENV.agent] ?? stage,
    ...(env[ENV.version] ? { version: env[ENV.version] } : {}),
    attempt: Number(env[ENV.attempt] ?? '1'),
    inputs: json(env, ENV.inputs, {}),
    parameters: json(env, ENV.parameters, {}),
    outputs: json(env, ENV.outputs, {}),
    budget: json(env, ENV.budget, {}),
  };
}

/** What this process has used so far: its peak resident memory and its user and system CPU time. */
export function processResources(): NonNullable<AgentReport['resources']> {
  const usage = process.resourceUsage();
  return {
    memoryPeakBytes: usage.maxRSS * 1024,
    cpuSeconds: Math.round((usage.userCPUTime + usage.systemCPUTime) / 1000) / 1000,
  };
}

/**
 * Writes the report where the operator reads it, with the process's resources unless the report
 * has its own. One over the termination message's 4 KiB goes to the log (`log`, stdout by
 * default) as one report line, and the termination message says so, keeping usage and error.
 */
export function writeReport(
  report: AgentReport,
  env: NodeJS.ProcessEnv = process.env,
  log: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): void {
  const full = { ...report, resources: report.resources ?? processResources() };
  let text = JSON.stringify(full);
  const bytes = Buffer.byteLength(text);
  if (bytes > TERMINATION_MESSAGE_LIMIT) {
    const sha256 = createHash('sha256').update(text).digest('hex');
    log(`${REPORT_LINE_PREFIX} ${bytes} ${sha256} ${text}`);
    text = JSON.stringify({ ...full, outputs: undefined, reportInLog: { bytes, sha256 } });
    if (Buffer.byteLength(text) > TERMINATION_MESSAGE_LIMIT) {
      throw new Error(
        `the report without its outputs is still ${Buffer.byteLength(text)} bytes; the termination message holds at most ${TERMINATION_MESSAGE_LIMIT}`,
      );
    }
  }
  writeFileSync(env[ENV.reportPath] ?? TERMINATION_MESSAGE_PATH, text);
}
