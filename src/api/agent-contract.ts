/**
 * The contract between the operator and an agent container, shared by the engine (which reads
 * reports) and the agent SDK (which writes them).
 *
 * The operator hands the container its work in environment variables; the agent writes one JSON
 * report to its termination message (/dev/termination-log), which Kubernetes caps at 4 KiB. A
 * larger report goes to the container's log as one line (REPORT_LINE_PREFIX, its size, its
 * sha256, the JSON), and the termination message carries the rest of the report with
 * reportInLog {bytes, sha256} in place of the outputs; the operator reads the log (as Tekton reads
 * larger results), so usage and errors never depend on it.
 */
import { Type, type Static } from '@sinclair/typebox';

export const TERMINATION_MESSAGE_PATH = '/dev/termination-log';
export const TERMINATION_MESSAGE_LIMIT = 4096;
/** Starts the log line that carries a report too large for the termination message. */
export const REPORT_LINE_PREFIX = 'agentrunbook.report';
/** The largest report the operator reads from a log unless configured otherwise. */
export const DEFAULT_MAX_REPORT_BYTES = 256 * 1024;

/** Environment variables the operator sets on the agent container. */
export const ENV = {
  runbook: 'AGENT_RUNBOOK',
  namespace: 'AGENT_NAMESPACE',
  stage: 'AGENT_STAGE',
  agent: 'AGENT_NAME',
  version: 'AGENT_VERSION',
  attempt: 'AGENT_ATTEMPT',
  /** JSON object: the stage's resolved inputs. */
  inputs: 'AGENT_INPUTS',
  /** JSON object: the stage's parameters. */
  parameters: 'AGENT_PARAMETERS',
  /** JSON object: declared outputs, name -> JSON type. */
  outputs: 'AGENT_OUTPUTS',
  /** JSON object: {tokens?, costUSD?, deadlineSeconds?} the agent must stay within. */
  budget: 'AGENT_BUDGET',
  /** Where to write the report; the termination message path unless a local runner moves it. */
  reportPath: 'AGENT_REPORT_PATH',
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

export interface AgentBudget {
  tokens?: number;
  costUSD?: string;
  /** Seconds the agent's Job may run before Kubernetes stops it. */
  deadlineSeconds?: number;
}
