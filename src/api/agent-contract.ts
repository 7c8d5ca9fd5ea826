/**
 * The contract between the operator and an agent container, shared by the engine (which reads
 * reports) and the agent SDK (which writes them).
 *
 * The operator hands the container its work as files in a projected volume at FILES_DIR
 * (inputs.json, parameters.json, budget.json, and upstream outputs too large for the status under
 * outputs/<stage>/<output>) and, when they are small, in environment variables too. An input that
 * passes such an output whole is a file reference, {"$file": "outputs/<stage>/<output>"}.
 *
 * The agent writes one JSON report to its termination message (/dev/termination-log), which
 * Kubernetes caps at 4 KiB. A larger report goes to the container's log as one line
 * (REPORT_LINE_PREFIX, its size, its sha256, the JSON), and the termination message carries the
 * rest of the report with reportInLog {bytes, sha256} in place of the outputs; the operator reads
 * the log (as Tekton reads larger results), so usage and errors never depend on it.
 */
import { Type, type Static } from '@sinclair/typebox';

export const TERMINATION_MESSAGE_PATH = '/dev/termination-log';
export const TERMINATION_MESSAGE_LIMIT = 4096;
/** Starts the log line that carries a report too large for the termination message. */
export const REPORT_LINE_PREFIX = 'agentrunbook.report';
/**
 * The most a stage's outputs may hold, their JSON encodings added up, unless the operator's
 * --max-output-bytes says less. It is also the most the operator allows: outputs kept outside the
 * status live in one ConfigMap per stage attempt, and a ConfigMap holds at most 1 MiB of data.
 */
export const MAX_OUTPUT_BYTES = 1024 * 1024;
/** What a report may hold besides its outputs (their keys, usage, resources, an error message). */
export const REPORT_ENVELOPE_BYTES = 64 * 1024;
/** The largest report the operator reads from a log. */
export const MAX_REPORT_BYTES = MAX_OUTPUT_BYTES + REPORT_ENVELOPE_BYTES;

/** Where the operator mounts the agent's files (a projected volume, read-only). */
export const FILES_DIR = '/var/run/agentrunbook';
export const FILES = {
  inputs: 'inputs.json',
  parameters: 'parameters.json',
  budget: 'budget.json',
  /** outputs/<stage>/<output>: an upstream output kept outside the status, as JSON. */
  outputs: 'outputs',
} as const;
/** The key of a file reference: an input whose value is the JSON in that file under FILES_DIR. */
export const FILE_REF = '$file';

/** Environment variables the operator sets on the agent container. */
export const ENV = {
  runbook: 'AGENT_RUNBOOK',
  namespace: 'AGENT_NAMESPACE',
  stage: 'AGENT_STAGE',
  agent: 'AGENT_NAME',
  version: 'AGENT_VERSION',
  attempt: 'AGENT_ATTEMPT',
  /** JSON object: the stage's resolved inputs (unset when large: read FILES.inputs). */
  inputs: 'AGENT_INPUTS',
  /** JSON object: the stage's parameters (unset when large: read FILES.parameters). */
  parameters: 'AGENT_PARAMETERS',
  /** JSON object: declared outputs, name -> JSON type. */
  outputs: 'AGENT_OUTPUTS',
  /** JSON object: {tokens?, costUSD?, deadlineSeconds?} the agent must stay within. */
  budget: 'AGENT_BUDGET',
  /** Where to write the report; the termination message path unless a local runner moves it. */
  reportPath: 'AGENT_REPORT_PATH',
  /** Where the files are; FILES_DIR unless a local runner moves them. */
  filesDir: 'AGENT_FILES_DIR',
  /** JSON LlmSettings: the endpoint, model and price an LLM agent uses (catalog llm and prices). */
  llm: 'AGENT_LLM',
  /** JSON object: workspace name -> where the stage mounts it (spec.workspaces). */
  workspaces: 'AGENT_WORKSPACES',
} as const;

export const AgentReport = Type.Object(
  {
    outputs: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    usage: Type.Optional(
      Type.Object({
        tokens: Type.Optional(Type.Integer({ minimum: 0 })),
        costUSD: Type.Optional(Type.Union([Type.String(), Type.Number({ minimum: 0 })])),
      }),
    ),
    /** What the agent's process used; the SDK fills it from process.resourceUsage(). */
    resources: Type.Optional(
      Type.Object({
        memoryPeakBytes: Type.Optional(Type.Integer({ minimum: 0 })),
        cpuSeconds: Type.Optional(Type.Number({ minimum: 0 })),
      }),
    ),
    error: Type.Optional(
      Type.Object({
        class: Type.String(),
        message: Type.Optional(Type.String()),
      }),
    ),
    /** The full report is in the container's log: its size in bytes and its sha256 (hex). */
    reportInLog: Type.Optional(
      Type.Object({
        bytes: Type.Integer({ minimum: 0 }),
        sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
      }),
    ),
  },
  { additionalProperties: true },
);

export type AgentReport = Static<typeof AgentReport>;

export interface LlmSettings {
  baseURL: string;
  model: string;
  /** US dollars per million tokens, as decimal strings. */
  price: { inputPerMillionTokens: string; outputPerMillionTokens: string };
}

export interface AgentBudget {
  tokens?: number;
  costUSD?: string;
  /** Seconds the agent's Job may run before Kubernetes stops it. */
  deadlineSeconds?: number;
}
