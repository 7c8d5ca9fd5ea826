/**
 * Scheduling: which stages start in this reconcile. A stage starts when its dependencies have
 * succeeded, its retry time has come, no stored result can stand in for it (result-cache.ts), its agent's circuit breaker lets it, no gate holds it, the
 * parallelism has room and the budget grants it an attempt; a stage whose dependency failed is
 * skipped. Each start plans its Job (stage/job-plan.ts) with the outputs it may read.
 */
import type { StageStatusV2 } from '../../api/v2/runbook.js';
import { grantFor, reservedBy } from '../stage/budget.js';
import { breakerConfig, breakerState } from '../stage/circuit-breaker.js';
import { planStageJob, type PlanContext } from '../stage/job-plan.js';
import { planContext } from './plan-context.js';
import { keyOf, noteMiss, reuseResult } from './result-cache.js';
import { breakerKeyOf } from '../spec/catalog.js';
import { isFanOut } from '../spec/for-each.js';
import { runsRunbook, startChild } from './child-runbooks.js';
import type { RunStage } from '../spec/workflow-stages.js';
import { timestamp } from '../model/conditions.js';
import type { AgentHistory } from '../model/types.js';
import { dependencyDone, isTerminalStage, skippedByCondition, type Run } from './run.js';

/** What lets stages start in this reconcile, decided before they do. */
export interface StartLimits {
  /** Stages that may not start yet, and why (gates). */
  held: Map<string, string>;
  /** Why no stage may start at all (a gate on the run), if anything stops them. */
  startBlocked?: string;
  /** What is left of the run's time limit. */
  runRemainingMs?: number;
}

const NO_HISTORY: AgentHistory = { finished: [], running: 0 };
export const DEFAULT_PARALLELISM = 5;

/** Whether the stage's dependencies let it start (ignoring time, gates, budgets and the cap). */
export function dependenciesMet(run: Run, name: string, stage: StageStatusV2): boolean {
  if (stage.phase === 'Retrying') return true;
  if (stage.phase !== 'Pending') return false;
  const deps = run.deps.get(name);
  const required = (deps?.required ?? []).every((dep) => dependencyDone(run.stages.get(dep)));
  const after =
    deps?.after === undefined ||
    isTerminalStage(run.stages.get(deps.after) ?? { name: '', phase: 'Pending' });
  return required && after;
}

/**
 * Marks stages whose dependencies failed, or were skipped other than by their own `when`, as
 * Skipped; returns whether any changed.
 */
export function skipBlocked(run: Run): boolean {
  let changed = false;
  for (const [name, stage] of run.stages) {
    if (stage.phase !== 'Pending') continue;
    const blocker = (run.deps.get(name)?.required ?? []).find((dep) => {
      const status = run.stages.get(dep);
      return status?.phase === 'Failed' || (status?.phase === 'Skipped' && !skippedByCondition(status));
    });
    if (blocker) {
      run.finishStage(stage, 'Skipped', 'DependencyFailed', `dependency ${blocker} did not succeed`);
      run.event('Normal', 'StageSkipped', `stage ${name} skipped: dependency ${blocker} did not succeed`);
      changed = true;
    }
  }
  return changed;
}

function retryDue(run: Run, stage: StageStatusV2): boolean {
  if (stage.phase !== 'Retrying' || !stage.nextAttemptTime) return true;
  const wait = Date.parse(stage.nextAttemptTime) - run.now.getTime();
  if (wait <= 0) return true;
  run.requeueAfter(wait);
  return false;
}

/** Jobs recorded in the status whose Job has not been observed: create them (again; the name is the same). */
export function recreateUnobserved(run: Run, runRemainingMs: number | undefined): void {
  const observed = new Set(run.input.jobs.map((job) => job.name));
  for (const [name, stage] of run.stages) {
    const spec = run.specStages.get(name);
    if (stage.phase !== 'Running' || !stage.job || observed.has(stage.job) || !spec) continue;
    const context = planContext(run, stage.grant ?? {}, runRemainingMs);
    const planned = planStageJob(context, spec, stage.attempt ?? 1);
    if ('plan' in planned && planned.plan.name === stage.job) run.create.push(planned.plan);
  }
}

/** Whether the agent's circuit breaker lets this stage start now; holds it (CircuitOpen) if not. */
function breakerAllows(run: Run, spec: RunStage, stage: StageStatusV2): boolean {
  const agent = spec.agent ?? spec.name;
  const key = breakerKeyOf(run.input.catalog, agent);
  const history = run.input.agentHistory?.get(key) ?? NO_HISTORY;
  const breaker = breakerState(history, breakerConfig(run.input.catalog, key), run.now.getTime());
  if (breaker.state === 'closed') return true;
  if (breaker.state === 'half-open' && !breaker.probeRunning && !run.probing.has(key)) {
    run.probing.add(key); // one probe at a time
    return true;
  }
  const until = breaker.state === 'open' ? breaker.until : run.now.getTime() + 1000;
  run.openBreakers.set(agent, until);
  stage.reason = 'CircuitOpen';
  stage.message =
    breaker.state === 'open'
      ? `agent ${agent} failed ${breaker.failures} times in a row; its circuit breaker is open until ${new Date(until).toISOString()}`
      : `agent ${agent}'s circuit breaker lets one probe through at a time; waiting for it`;
  run.requeueAfter(until - run.now.getTime());
  return false;
}

/** Starts ready stages of the active workflow, in order, as far as the parallelism allows; returns whether any changed. */
export function startReady(run: Run, limits: StartLimits): boolean {
  if (run.spec.suspend || limits.startBlocked) return false;
  const parallelism = run.spec.execution?.parallelism ?? DEFAULT_PARALLELISM;
  // A forEach stage runs no Job of its own: its items take the slots.
  let running = [...run.stages.values()].filter(
    (stage) => stage.phase === 'Running' && !isFanOut(run.specStages.get(stage.name)),
  ).length;
  let changed = false;
  for (const [name, stage] of run.stages) {
    const spec = run.specStages.get(name);
    if (!spec || spec.workflow !== run.activeWorkflow || limits.held.has(name) || isFanOut(spec)) continue;
    if (!dependenciesMet(run, name, stage) || !retryDue(run, stage)) continue;
    const child = runsRunbook(spec);
    // A stored result needs no agent, slot or budget: it is reused before any of them is asked.
    const keyed = child ? undefined : keyOf(run, spec, (stage.attempt ?? 0) + 1);
    if (keyed && reuseResult(run, stage, keyed)) {
      changed = true;
      continue;
    }
    if (!child && !breakerAllows(run, spec, stage)) continue;
    if (running >= parallelism) break;
    const { grant, waitFor } = grantFor(
      run.spec,
      run.usage(),
      reservedBy([...run.stages.values()]),
      run.usesReserve,
    );
    if (waitFor) {
      stage.reason = 'WaitingForBudget';
      stage.message = `waiting for a budget grant: ${waitFor}`;
      break;
    }
    changed = true;
    if (child) {
      if (startChild(run, stage, spec, grant)) running += 1;
      continue;
    }
    if (startStage(run, name, stage, spec, planContext(run, grant, limits.runRemainingMs))) {
      noteMiss(stage, keyed);
      running += 1;
    }
  }
  return changed;
}

/** Plans the stage's next attempt and starts it, or fails the stage if it cannot be planned. */
function startStage(
  run: Run,
  name: string,
  stage: StageStatusV2,
  spec: RunStage,
  context: PlanContext,
): boolean {
  const attempt = (stage.attempt ?? 0) + 1;
  const planned = planStageJob(context, spec, attempt);
  if ('problem' in planned) {
    const { reason, message } = planned.problem;
    stage.lastError = 'VALIDATION_ERROR';
    run.finishStage(stage, 'Failed', reason, message);
    run.event('Warning', 'StageFailed', `stage ${name} failed (${reason}): ${message}`);
    return false;
  }
  const { grant } = context;
  Object.assign(stage, { phase: 'Running', attempt, job: planned.plan.name, reason: 'Started', grant });
  delete stage.nextAttemptTime;
  stage.message = `attempt ${attempt} running as Job ${planned.plan.name}`;
  stage.startTime ??= timestamp(run.now);
  run.create.push(planned.plan);
  return true;
}
