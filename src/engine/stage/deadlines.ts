/**
 * Time limits: the run's clock against its limit, and the deadline handed to each stage's Job.
 * The run clock stops while the run waits at a gate: a person's decision is bounded by the gate's
 * own timeout, not by the time the run may spend working.
 */
import type { SpecV2, StageV2, StatusV2 } from '../../api/v2/runbook.js';
import { formatElapsed, parseDurationMs } from '../../api/grammar.js';
import { timestamp } from '../model/conditions.js';

type Clock = NonNullable<StatusV2['clock']>;

/** The run's time limit: the smaller of execution.timeout and budgets.time.total. */
export function runLimitMs(spec: SpecV2): number | undefined {
  const limits = [spec.execution?.timeout, spec.budgets?.time?.total]
    .filter((value): value is string => value !== undefined)
    .map(parseDurationMs);
  return limits.length ? Math.min(...limits) : undefined;
}

/** Time spent waiting at gates up to now: the finished waits, and the current one if the clock is stopped. */
function pausedMs(clock: Clock | undefined, now: Date): number {
  const since = Date.parse(clock?.pausedSince ?? '');
  const current = Number.isNaN(since) ? 0 : Math.max(0, now.getTime() - since);
  return (clock?.pausedSeconds ?? 0) * 1000 + current;
}

/** How much of its limit the run has used, counted from the start time in status (so a restart never extends it). */
export function runTime(
  spec: SpecV2,
  status: StatusV2,
  now: Date,
): { limitMs: number; usedMs: number } | undefined {
  const limitMs = runLimitMs(spec);
  const start = Date.parse(status.startTime ?? '');
  if (limitMs === undefined || Number.isNaN(start)) return undefined;
  return { limitMs, usedMs: now.getTime() - start - pausedMs(status.clock, now) };
}

/**
 * The clock after this reconcile: a wait that ended is added to the paused time, a wait that
 * began stops the clock, and the deadline moves by the time spent waiting.
 */
export function nextClock(spec: SpecV2, status: StatusV2, now: Date, waiting: boolean): Clock | undefined {
  const limitMs = runLimitMs(spec);
  const before = status.clock;
  if (limitMs === undefined && !before) return undefined;
  const stillPaused = waiting && before?.pausedSince !== undefined;
  const pausedSeconds = stillPaused ? (before.pausedSeconds ?? 0) : Math.round(pausedMs(before, now) / 1000);
  const start = Date.parse(status.startTime ?? '');
  const clock: Clock = {
    ...(limitMs === undefined ? {} : { limit: formatElapsed(limitMs) }),
    ...(pausedSeconds ? { pausedSeconds } : {}),
  };
  if (waiting) clock.pausedSince = before?.pausedSince ?? timestamp(now);
  else if (limitMs !== undefined && !Number.isNaN(start))
    clock.deadline = timestamp(new Date(start + limitMs + pausedSeconds * 1000));
  return clock;
}

/** activeDeadlineSeconds of a stage's Job: the smallest of its timeout, perStage and what is left of the run. */
export function stageDeadlineSeconds(
  spec: SpecV2,
  stage: StageV2,
  runRemainingMs: number | undefined,
): number | undefined {
  const limits = [stage.config?.timeout, spec.budgets?.time?.perStage]
    .filter((value): value is string => value !== undefined)
    .map(parseDurationMs);
  if (runRemainingMs !== undefined) limits.push(runRemainingMs);
  if (limits.length === 0) return undefined;
  return Math.max(1, Math.ceil(Math.min(...limits) / 1000));
}
