/**
 * What a finished Job means: success with outputs, or a failure with a reason and an error class.
 * One rule serves the stage (with its declared outputs) and the agent's circuit breaker.
 */
import type { StageReason } from '../../api/reasons.js';
import type { StageV2 } from '../../api/v2/runbook.js';
import { checkOutputs, reportOf, type ErrorClass, type OutputType, type Resources } from './agent-report.js';
import { encodeOutputs } from '../spec/stored-outputs.js';
import type { JobObservation } from '../model/types.js';

/** Error classes that no retry can fix. */
export const NON_RETRYABLE: readonly ErrorClass[] = [
  'CRITICAL_ERROR',
  'SECURITY_INCIDENT',
  'VALIDATION_ERROR',
];

interface Usage {
  tokens: number;
  costMicros: number;
  resources?: Resources;
}

export interface Failure {
  kind: 'failed';
  reason: StageReason;
  message: string;
  errorClass: ErrorClass;
  retryable: boolean;
}

export type StageOutcome =
  | ({
      kind: 'succeeded';
      outputs: Record<string, unknown>;
      /** Each output as JSON. */
      encoded: ReadonlyMap<string, string>;
    } & Usage)
  | (Failure & Usage);

const failure = (reason: StageReason, message: string, errorClass: ErrorClass): Failure => ({
  kind: 'failed',
  reason,
  message,
  errorClass,
  retryable: !NON_RETRYABLE.includes(errorClass),
});

/**
 * How a finished Job failed by its own and its agent's account, or undefined when it succeeded,
 * before its outputs are read: what circuit breakers count. An agent that reports an error
 * failed, whatever its exit code says. Its outputs do not count: they may be in a log that only
 * the stage's own reconcile reads.
 */
export function agentFailure(job: JobObservation): Failure | undefined {
  if (job.state === 'active') return undefined;
  const parsed = reportOf(job);
  const reported = 'report' in parsed ? parsed.report.error : undefined;
  if (job.state === 'failed' && job.failureReason === 'DeadlineExceeded') {
    return failure(
      'DeadlineExceeded',
      `attempt ${job.attempt} ran past its deadline and was stopped`,
      'TIMEOUT',
    );
  }
  if (reported) {
    const detail = reported.message ? `: ${reported.message}` : '';
    return failure(
      'AgentFailed',
      `attempt ${job.attempt} failed with ${reported.class}${detail}`,
      reported.class,
    );
  }
  if (job.state === 'succeeded') return undefined;
  const how = [job.exitCode === undefined ? undefined : `exit code ${job.exitCode}`, job.terminatedReason]
    .filter(Boolean)
    .join(', ');
  return failure(
    'AgentFailed',
    `attempt ${job.attempt} failed${how ? ` (${how})` : ''} without reporting an error class`,
    'UNKNOWN',
  );
}

/** What the Job means for its stage, whose outputs may hold `maxOutputBytes` as JSON. */
export function stageOutcome(job: JobObservation, stage: StageV2, maxOutputBytes: number): StageOutcome {
  const parsed = reportOf(job);
  const usage: Usage =
    'report' in parsed
      ? {
          tokens: parsed.report.tokens,
          costMicros: parsed.report.costMicros,
          ...(parsed.report.resources ? { resources: parsed.report.resources } : {}),
        }
      : { tokens: 0, costMicros: 0 };
  const failed = agentFailure(job);
  if (failed) return { ...failed, ...usage };
  if (parsed.problem) {
    return { ...failure(parsed.problem.reason, parsed.problem.message, 'VALIDATION_ERROR'), ...usage };
  }
  const outputs = 'report' in parsed ? parsed.report.outputs : {};
  const declared = (stage.config?.outputs ?? {}) as Record<string, OutputType>;
  const problem = checkOutputs(declared, outputs);
  if (problem) return { ...failure(problem.reason, problem.message, 'VALIDATION_ERROR'), ...usage };
  const sized = encodeOutputs(outputs, maxOutputBytes);
  if ('problem' in sized) {
    return { ...failure(sized.problem.reason, sized.problem.message, 'VALIDATION_ERROR'), ...usage };
  }
  return { kind: 'succeeded', outputs, encoded: sized.encoded, ...usage };
}
