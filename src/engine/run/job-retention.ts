/**
 * Which Jobs of finished runs to remove (spec.history): runs beyond the limit, newest first, and
 * runs finished longer ago than ttlAfterFinished. A Job whose infrastructure failure still counts
 * for its agent's open circuit breaker waits until the breaker's reset timeout has passed.
 * The current run's Jobs are only removed once the stored status says it finished: removing
 * them in the reconcile that finishes it could lose its outcome if that status write failed.
 */
import type { AgentCatalog } from '../../api/catalog.js';
import { parseDurationMs } from '../../api/grammar.js';
import { DEFAULT_HISTORY_LIMIT } from '../../api/v2/history.js';
import type { SpecV2, StatusV2 } from '../../api/v2/runbook.js';
import { breakerConfig, INFRASTRUCTURE_ERRORS } from '../stage/circuit-breaker.js';
import { agentFailure } from '../stage/stage-outcome.js';
import type { JobObservation } from '../model/types.js';

export interface Pruning {
  delete: { name: string; reason: 'HistoryLimit' | 'HistoryExpired' }[];
  /** When a kept Job's time is up. */
  requeueAfterMs?: number;
}

interface FinishedRun {
  jobs: JobObservation[];
  finishedAt: number;
  current: boolean;
}

const completedAt = (job: JobObservation) => Date.parse(job.completionTime ?? '') || 0;

/** Finished runs, newest first: the current one when its stored status is final, and past ones without active Jobs. */
function finishedRuns(
  jobs: readonly JobObservation[],
  current: string,
  status: StatusV2 | undefined,
  final: boolean,
) {
  const byExecution = new Map<string, JobObservation[]>();
  for (const job of jobs) byExecution.set(job.execution, [...(byExecution.get(job.execution) ?? []), job]);
  const runs: FinishedRun[] = [];
  for (const [execution, runJobs] of byExecution) {
    if (runJobs.some((job) => job.state === 'active')) continue;
    if (execution === current && !final) continue;
    const latest = Math.max(...runJobs.map(completedAt));
    const finishedAt = execution === current ? Date.parse(status?.completionTime ?? '') || latest : latest;
    runs.push({ jobs: runJobs, finishedAt, current: execution === current });
  }
  // The current run is the newest, whatever the clock says: timestamps have whole seconds, and a
  // past run that ended in the same second must not push the current one out.
  return runs.sort((a, b) => Number(b.current) - Number(a.current) || b.finishedAt - a.finishedAt);
}

export function pruneHistory(
  spec: SpecV2,
  catalog: AgentCatalog,
  jobs: readonly JobObservation[],
  current: { execution: string; status?: StatusV2; final: boolean },
  now: number,
): Pruning {
  const limit = spec.history?.limit ?? DEFAULT_HISTORY_LIMIT;
  const ttl = spec.history?.ttlAfterFinished;
  const ttlMs = ttl === undefined ? undefined : parseDurationMs(ttl);
  const pruning: Pruning = { delete: [] };
  const later = (at: number) => {
    const wait = Math.max(1, at - now);
    pruning.requeueAfterMs = Math.min(pruning.requeueAfterMs ?? wait, wait);
  };
  const runs = finishedRuns(jobs, current.execution, current.status, current.final);
  for (const [index, run] of runs.entries()) {
    let reason: Pruning['delete'][number]['reason'];
    if (index >= limit) reason = 'HistoryLimit';
    else if (ttlMs !== undefined && run.finishedAt + ttlMs <= now) reason = 'HistoryExpired';
    else {
      if (ttlMs !== undefined) later(run.finishedAt + ttlMs);
      continue;
    }
    for (const job of run.jobs) {
      const heldUntil = breakerHold(job, catalog);
      if (heldUntil > now) later(heldUntil);
      else pruning.delete.push({ name: job.name, reason });
    }
  }
  return pruning;
}

/** Until when a Job's failure may still hold its agent's breaker open (0 when it cannot). */
function breakerHold(job: JobObservation, catalog: AgentCatalog): number {
  const errorClass = agentFailure(job)?.errorClass;
  if (!job.agent || !errorClass || !INFRASTRUCTURE_ERRORS.includes(errorClass)) return 0;
  return completedAt(job) + breakerConfig(catalog, job.agent).resetTimeoutMs;
}
