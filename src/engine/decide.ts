/**
 * The engine's entry point: from the runbook, the Jobs observed for it and the time, decide the
 * Jobs to create and delete, the new status, the Events to record and when to look again.
 * Pure: no I/O, no clock, no randomness. The controller writes the status first and then creates
 * the Jobs, so a restart between the two finds the attempt recorded and creates the same Job.
 */
import { ANNOTATION_RERUN } from '../api/labels.js';
import type { StatusV2 } from '../api/v2/runbook.js';
import { exhausted } from './budget.js';
import { timestamp } from './conditions.js';
import { formatElapsed, runLimitMs } from './deadlines.js';
import { effectiveSpec } from './effective.js';
import { applyGates } from './gate-state.js';
import { graphProblem, stagesOf } from './graph.js';
import { executionId } from './naming.js';
import { isTerminalStage, Run } from './run-state.js';
import { summarize, TERMINAL_RUN, type Ending } from './summary.js';
import type { Decision, EngineInput, RunbookObject } from './types.js';

export { POD_REPORT_GRACE_MS } from './run-state.js';

function freshStatus(runbook: RunbookObject, execution: string, now: Date): StatusV2 {
  return {
    observedGeneration: runbook.metadata.generation,
    execution,
    phase: 'Pending',
    startTime: timestamp(now),
    stages: stagesOf(runbook.spec).map((stage) => ({ name: stage.name, phase: 'Pending' as const })),
    conditions: [],
  };
}

/** The run's deadline, counted from the start time in status (so a restart never extends it). */
function checkDeadline(run: Run): Ending | undefined {
  const limit = runLimitMs(run.spec);
  const start = Date.parse(run.status.startTime ?? '');
  if (limit === undefined || Number.isNaN(start)) return undefined;
  const elapsed = run.now.getTime() - start;
  if (elapsed >= limit) {
    return {
      phase: 'TimedOut',
      condition: 'TimedOut',
      reason: 'DeadlineExceeded',
      message: `the run took ${formatElapsed(elapsed)}, past its limit of ${formatElapsed(limit)}`,
    };
  }
  run.runRemainingMs = limit - elapsed;
  run.requeueAfter(limit - elapsed);
  return undefined;
}

export function decide(input: EngineInput): Decision {
  const { jobs, now } = input;
  const spec = effectiveSpec(input.runbook.spec);
  const runbook: RunbookObject = { ...input.runbook, spec };
  const { generation, annotations } = runbook.metadata;
  const execution = executionId(generation, annotations?.[ANNOTATION_RERUN]);
  const fresh = runbook.status?.execution !== execution;
  const status: StatusV2 = fresh
    ? freshStatus(runbook, execution, now)
    : structuredClone(runbook.status ?? {});
  status.observedGeneration = generation;
  status.effective = {
    ...(spec.environment ? { environment: spec.environment } : {}),
    execution: spec.execution ?? {},
    budgets: spec.budgets ?? {},
  };
  const run = new Run({ ...input, runbook }, execution, status);

  for (const job of jobs) {
    if (job.execution !== execution && job.state === 'active') {
      run.deletes.push({ name: job.name, reason: job.generation !== generation ? 'SpecChanged' : 'Rerun' });
    }
  }
  if (fresh) run.event('Normal', 'RunStarted', `started run ${execution} of generation ${generation}`);
  if (TERMINAL_RUN.has(status.phase ?? '')) {
    return { status, create: [], delete: run.deletes, events: run.events };
  }

  let ending: Ending | undefined;
  let waiting: string[] = [];
  const problem = graphProblem(spec);
  if (problem) {
    ending = { phase: 'Failed', condition: 'Failed', reason: 'InvalidDependencies', message: problem };
  } else {
    run.observeJobs();
    ending = checkDeadline(run);
    // A used-up budget stops the stages still to come; a run with nothing left to do has simply finished.
    const spent = exhausted(spec, run.usage());
    const unfinished = [...run.stages.values()].some((stage) => !isTerminalStage(stage));
    if (!ending && spent && unfinished)
      ending = { phase: 'BudgetExceeded', condition: 'BudgetExceeded', ...spent };
    if (!ending) {
      const gates = applyGates(run);
      waiting = gates.waiting;
      if (gates.ending) ending = { phase: 'Failed', condition: 'Failed', ...gates.ending };
    }
    if (!ending) {
      run.recreateUnobserved();
      for (let changed = true; changed;) {
        const aborting = run.abortingStage();
        if (aborting) {
          ending = {
            phase: 'Failed',
            condition: 'Failed',
            reason: 'StageFailed',
            message: `stage ${aborting.name} failed: ${aborting.message ?? aborting.reason ?? ''}`,
          };
          break;
        }
        changed = run.skipBlocked() || run.startReady();
      }
    }
  }
  if (ending) {
    run.stopAll(ending.message);
    run.requeueAfterMs = undefined;
    waiting = [];
  }
  return {
    status: summarize(run, ending, waiting),
    create: run.create,
    delete: run.deletes,
    events: run.events,
    ...(run.requeueAfterMs === undefined ? {} : { requeueAfterMs: run.requeueAfterMs }),
  };
}
