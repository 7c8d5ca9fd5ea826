/**
 * The agent side of the contract (src/api/agent-contract.ts): read the assignment the operator
 * put in the agent's files and environment, do the work, write one report to the termination
 * message (or the log, when it is large).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { createHash } from 'node:crypto';
import {
  ENV,
  FILE_REF,
  FILES,
  FILES_DIR,
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
  /** The runbook's workspaces this stage mounts: name -> directory. */
  workspaces: Record<string, string>;
}

/** What the operator handed over is not what the contract says: the agent should report it, not guess. */
export class AssignmentError extends Error {}

function parse(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new AssignmentError(`${what} is not JSON: ${(error as Error).message}`);
  }
}

/** A file of the agent's volume, or undefined when there is none (an older operator, a local run). */
function readFile(dir: string, path: string): string | undefined {
  try {
    return readFileSync(join(dir, path), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** The file's JSON, else the environment variable's, else the fallback. */
function json<T>(env: NodeJS.ProcessEnv, dir: string, file: string, name: string, fallback: T): T {
  const text = readFile(dir, file);
  if (text !== undefined) return parse(text, join(dir, file)) as T;
  const variable = env[name];
  return variable === undefined || variable === '' ? fallback : (parse(variable, name) as T);
}

/** Replaces each file reference ({"$file": path}) in the inputs with the JSON of that file. */
function readFileReferences(value: unknown, dir: string, at: string): unknown {
  if (Array.isArray(value))
    return value.map((item, index) => readFileReferences(item, dir, `${at}[${index}]`));
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value);
  const [only] = entries;
  if (entries.length === 1 && only?.[0] === FILE_REF && typeof only[1] === 'string') {
    const path = only[1];
    const inside = relative(dir, join(dir, path));
    if (isAbsolute(path) || inside.startsWith('..')) {
      throw new AssignmentError(`input ${at} refers to ${path}, outside ${dir}`);
    }
    const text = readFile(dir, path);
    if (text === undefined) {
      throw new AssignmentError(
        `input ${at} is the file ${join(dir, path)}, which is missing: the ConfigMap of the output it passes was deleted`,
      );
    }
    return parse(text, join(dir, path));
  }
  return Object.fromEntries(
    entries.map(([key, item]) => [key, readFileReferences(item, dir, `${at}.${key}`)]),
  );
}

/**
 * The stage's assignment: inputs, parameters and budget from the files under FILES_DIR (or
 * AGENT_FILES_DIR) when they are there, else from the environment; inputs that pass a large
 * output are read from the file they name.
 */
export function readAssignment(env: NodeJS.ProcessEnv = process.env): Assignment {
  const stage = env[ENV.stage];
  if (!stage) throw new Error(`${ENV.stage} is not set: this program runs as an AgentRunbook stage`);
  const dir = env[ENV.filesDir] ?? FILES_DIR;
  const inputs = json<Record<string, unknown>>(env, dir, FILES.inputs, ENV.inputs, {});
  return {
    runbook: env[ENV.runbook] ?? '',
    namespace: env[ENV.namespace] ?? '',
    stage,
    agent: env[ENV.agent] ?? stage,
    ...(env[ENV.version] ? { version: env[ENV.version] } : {}),
    attempt: Number(env[ENV.attempt] ?? '1'),
    inputs: readFileReferences(inputs, dir, 'inputs') as Record<string, unknown>,
    parameters: json(env, dir, FILES.parameters, ENV.parameters, {}),
    outputs: env[ENV.outputs] ? (parse(env[ENV.outputs] ?? '', ENV.outputs) as Assignment['outputs']) : {},
    budget: json(env, dir, FILES.budget, ENV.budget, {}),
    workspaces: env[ENV.workspaces]
      ? (parse(env[ENV.workspaces] ?? '', ENV.workspaces) as Assignment['workspaces'])
      : {},
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
