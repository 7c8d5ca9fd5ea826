/** What a finished Job means for its stage: success with outputs, or a failure with a reason. */
import type { StageV2 } from '../api/v2/runbook.js';
import { parseReport, checkOutputs, type ErrorClass, type OutputType } from './agent-report.js';
import type { JobObservation } from './types.js';

/** Error classes that no retry can fix. */
export const NON_RETRYABLE: readonly ErrorClass[] = [
  'CRITICAL_ERROR',
  'SECURITY_INCIDENT',
  'VALIDATION_ERROR',
];

export type StageOutcome =
  | { kind: 'succeeded'; outputs: Record<string, unknown>; tokens: number; costMicros: number }
  | {
      kind: 'failed';
      reason: string;
      message: string;
      errorClass: ErrorClass;
      retryable: boolean;
      tokens: number;
      costMicros: number;
    };

export function stageOutcome(job: JobObservation, stage: StageV2): StageOutcome {
  const parsed = parseReport(job.terminationMessage);
  const usage =
    'report' in parsed
      ? { tokens: parsed.report.tokens, costMicros: parsed.report.costMicros }
      : { tokens: 0, costMicros: 0 };
  const reportedError = 'report' in parsed ? parsed.report.error : undefined;
  const reported: StageOutcome | undefined = reportedError && {
    kind: 'failed',
    reason: 'AgentFailed',
    message: `attempt ${job.attempt} failed with ${reportedError.class}${reportedError.message ? `: ${reportedError.message}` : ''}`,
    errorClass: reportedError.class,
    retryable: !NON_RETRYABLE.includes(reportedError.class),
    ...usage,
  };
  if (job.state === 'succeeded') {
    // An agent that reports an error failed, whatever its exit code says.
    if (reported) return reported;
    if ('problem' in parsed) {
      return {
        kind: 'failed',
        ...parsed.problem,
        errorClass: 'VALIDATION_ERROR',
        retryable: false,
        ...usage,
      };
    }
    const declared = (stage.config?.outputs ?? {}) as Record<string, OutputType>;
    const problem = checkOutputs(declared, parsed.report.outputs);
    if (problem)
      return { kind: 'failed', ...problem, errorClass: 'VALIDATION_ERROR', retryable: false, ...usage };
    return { kind: 'succeeded', outputs: parsed.report.outputs, ...usage };
  }
  if (job.failureReason === 'DeadlineExceeded') {
    return {
      kind: 'failed',
      reason: 'DeadlineExceeded',
      message: `attempt ${job.attempt} ran past its deadline and was stopped`,
      errorClass: 'TIMEOUT',
      retryable: true,
      ...usage,
    };
  }
  if (reported) return reported;
  const how = [job.exitCode === undefined ? undefined : `exit code ${job.exitCode}`, job.terminatedReason]
    .filter(Boolean)
    .join(', ');
  return {
    kind: 'failed',
    reason: 'AgentFailed',
    message: `attempt ${job.attempt} failed${how ? ` (${how})` : ''} without reporting an error class`,
    errorClass: 'UNKNOWN',
    retryable: true,
    ...usage,
  };
}
