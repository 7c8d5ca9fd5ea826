/**
 * status.metrics: the specification's ExecutionMetrics, computed from the status alone so that it
 * changes only when the status does (durations appear once their stage or run finished). Rates
 * count attempts: an attempt has finished unless its stage runs it now.
 */
import { addMicros, formatMicros, parseMicros } from '../../api/grammar.js';
import type { ExecutionMetricsV2, StageStatusV2, StatusV2 } from '../../api/v2/runbook.js';
import { addTokens, totalUsage } from '../stage/budget.js';

export interface Attempts {
  started: number;
  succeeded: number;
  failed: number;
}

/** A stage's attempts: started, and of the finished ones how many succeeded and failed. */
export function attemptsOf(stage: StageStatusV2): Attempts {
  // A forEach stage's own figures are those of its items that finished (running ones have entries).
  if (stage.items) {
    const started = stage.items.attempts ?? 0;
    const succeeded = Math.min(started, stage.items.succeeded);
    return { started, succeeded, failed: started - succeeded };
  }
  const started = stage.attempt ?? 0;
  const finished = Math.max(0, started - (stage.phase === 'Running' ? 1 : 0));
  const succeeded = stage.phase === 'Succeeded' && started > 0 ? 1 : 0;
  return { started, succeeded, failed: Math.max(0, finished - succeeded) };
}

/** Three decimals: enough for a rate or a second, and stable across reconciles. */
const round = (value: number) => Math.round(value * 1000) / 1000;

const rate = (part: number, whole: number) => (whole > 0 ? round(part / whole) : undefined);

function secondsBetween(start: string | undefined, end: string | undefined): number | undefined {
  const from = Date.parse(start ?? '');
  const to = Date.parse(end ?? '');
  return Number.isNaN(from) || Number.isNaN(to) ? undefined : round(Math.max(0, to - from) / 1000);
}

/** What the stages that reused stored results saved: how many did, their tokens and dollars. */
function savedByCache(
  stages: readonly StageStatusV2[],
): Pick<ExecutionMetricsV2, 'cachedStages' | 'tokensSaved' | 'costSaved'> {
  const hits = stages.filter((stage) => stage.cache?.result === 'Hit' && stage.phase === 'Succeeded');
  if (!hits.length) return {};
  let tokens = 0;
  let micros = 0;
  for (const { cache } of hits) {
    tokens = addTokens(tokens, cache?.saved?.tokens ?? 0);
    micros = addMicros(micros, parseMicros(cache?.saved?.costUSD ?? '0'));
  }
  return { cachedStages: hits.length, tokensSaved: tokens, costSaved: formatMicros(micros) };
}

export function executionMetrics(status: StatusV2): ExecutionMetricsV2 {
  const stages = status.stages ?? [];
  const total = { started: 0, succeeded: 0, failed: 0, retries: 0, memory: 0, cpu: 0 };
  const perStage = stages.map((stage) => {
    const attempts = attemptsOf(stage);
    total.started += attempts.started;
    total.succeeded += attempts.succeeded;
    total.failed += attempts.failed;
    total.retries += Math.max(0, attempts.started - 1);
    total.memory = Math.max(total.memory, stage.resources?.memoryPeakBytes ?? 0);
    total.cpu += stage.resources?.cpuSeconds ?? 0;
    const successRate = rate(attempts.succeeded, attempts.succeeded + attempts.failed);
    const duration = secondsBetween(stage.startTime, stage.completionTime);
    return {
      name: stage.name,
      attempts: attempts.started,
      ...(successRate === undefined ? {} : { successRate }),
      ...(duration === undefined ? {} : { durationSeconds: duration }),
    };
  });
  const finished = total.succeeded + total.failed;
  const successRate = rate(total.succeeded, finished);
  const errorRate = rate(total.failed, finished);
  const duration = secondsBetween(status.startTime, status.completionTime);
  const usage = totalUsage(stages);
  return {
    ...(duration === undefined ? {} : { durationSeconds: duration }),
    retryCount: total.retries,
    ...(successRate === undefined ? {} : { successRate }),
    ...(errorRate === undefined ? {} : { errorRate }),
    fallbackTriggered: stages.some((stage) => stage.workflow === 'fallback'),
    tokensUsed: usage.tokens,
    costAccrued: formatMicros(usage.costMicros),
    ...(total.memory ? { memoryPeakBytes: total.memory } : {}),
    ...(total.cpu ? { cpuSeconds: round(total.cpu) } : {}),
    ...savedByCache(stages),
    ...(perStage.length ? { stages: perStage } : {}),
  };
}
