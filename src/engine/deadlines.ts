/** Time limits: the run's deadline, and the deadline handed to each stage's Job. */
import type { SpecV2, StageV2 } from '../api/v2/runbook.js';
import { parseDurationMs } from '../api/durations.js';

/** The run's time limit: the smaller of execution.timeout and budgets.time.total. */
export function runLimitMs(spec: SpecV2): number | undefined {
  const limits = [spec.execution?.timeout, spec.budgets?.time?.total]
    .filter((value): value is string => value !== undefined)
    .map(parseDurationMs);
  return limits.length ? Math.min(...limits) : undefined;
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

export function formatElapsed(ms: number): string {
  const seconds = Math.round(ms / 1000);
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return [h ? `${h}h` : '', m ? `${m}m` : '', s || (!h && !m) ? `${s}s` : ''].join('');
}
