/**
 * The contract between the operator and an agent container, shared by the engine (which reads
 * reports) and the agent SDK (which writes them).
 *
 * The operator hands the container its work in environment variables; the agent writes one JSON
 * report to its termination message (/dev/termination-log), which Kubernetes caps at 4 KiB.
 */
import { Type, type Static } from '@sinclair/typebox';

export const TERMINATION_MESSAGE_PATH = '/dev/termination-log';
export const TERMINATION_MESSAGE_LIMIT = 4096;

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
