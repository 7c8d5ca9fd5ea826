/**
 * Retry policies: how many attempts a stage gets and how long to wait before each retry, from
 * execution.retries / config.retries and the named strategy in spec.retryStrategies.
 * Jitter is deterministic: it comes from a hash of the failed Job's name.
 */
import type { SpecV2, StageV2 } from '../../api/v2/runbook.js';
import type { ErrorClass } from './agent-report.js';
import { parseDurationMs } from '../../api/grammar.js';
import { MAX_DURATION_MS } from '../../api/limits.js';
import { shortHash } from '../model/hash.js';
import { NON_RETRYABLE } from './stage-outcome.js';

export interface RetryPolicy {
  /** Retries after the first attempt. */
  maxRetries: number;
  /** Whether a failure of this class may be retried at all. */
  retries(errorClass: ErrorClass): boolean;
  /** Delay before the retry that follows failed attempt `attempt` (1-based) of Job `jobName`. */
  delayMs(attempt: number, jobName: string): number;
}

type Strategy = NonNullable<SpecV2['retryStrategies']>[string];

/** The retry logic a custom strategy's function names (the schema lists the names there are). */
const CUSTOM_RETRY_LOGIC: Record<
  NonNullable<Strategy['function']>,
  (strategy: Strategy, attempt: number) => number
> = {
  // 1s times backoffMultiplier to the power of the retry; which classes retry is retryPolicy's.
  customRetryLogic: (strategy, attempt) =>
    Math.round(1000 * (strategy.parameters?.backoffMultiplier ?? 1) ** (attempt - 1)),
};

/** A number in [0, 1) that depends only on the Job name. */
export function jitterFraction(jobName: string): number {
  return parseInt(shortHash([jobName], 8), 16) / 0x1_0000_0000;
}

/** The delay before a retry, never past the longest duration the API accepts. */
export function strategyDelayMs(strategy: Strategy | undefined, attempt: number, jobName: string): number {
  return Math.min(MAX_DURATION_MS, uncappedDelayMs(strategy, attempt, jobName));
}

function uncappedDelayMs(strategy: Strategy | undefined, attempt: number, jobName: string): number {
  if (!strategy) return 0;
  switch (strategy.type) {
    case 'exponential': {
      const base = parseDurationMs(strategy.baseDelay ?? '1s');
      const max = strategy.maxDelay ? parseDurationMs(strategy.maxDelay) : MAX_DURATION_MS;
      const delay = Math.min(max, base * (strategy.multiplier ?? 2) ** (attempt - 1));
      // "Equal jitter": half the delay fixed, half spread, so jitter never exceeds the un-jittered delay.
      return Math.round(strategy.jitter ? delay / 2 + (delay / 2) * jitterFraction(jobName) : delay);
    }
    case 'linear':
      return (
        parseDurationMs(strategy.initialDelay ?? '0s') +
        parseDurationMs(strategy.increment ?? '0s') * (attempt - 1)
      );
    case 'immediate':
      return 0;
    case 'custom':
      return CUSTOM_RETRY_LOGIC[strategy.function ?? 'customRetryLogic'](strategy, attempt);
  }
}

export function retryPolicy(spec: SpecV2, stage: StageV2): RetryPolicy {
  const name = stage.config?.retryStrategy ?? spec.execution?.retryStrategy;
  const strategy = name ? spec.retryStrategies?.[name] : undefined;
  const configured = stage.config?.retries ?? spec.execution?.retries;
  const capped = strategy?.maxAttempts === undefined ? undefined : strategy.maxAttempts - 1;
  const maxRetries = Math.min(configured ?? capped ?? 0, capped ?? Number.POSITIVE_INFINITY);
  const only = strategy?.type === 'custom' ? strategy.parameters?.conditions : undefined;
  return {
    maxRetries,
    retries: (errorClass) =>
      !NON_RETRYABLE.includes(errorClass) && (only === undefined || only.includes(errorClass)),
    delayMs: (attempt, jobName) => strategyDelayMs(strategy, attempt, jobName),
  };
}
