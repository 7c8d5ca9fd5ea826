/**
 * The engine's entry point: from the runbook, the Jobs observed for it and the time, decide the
 * Jobs to create and delete, the new status, the Events to record and when to look again.
 * Pure: no I/O, no clock, no randomness. The controller writes the status first and then creates
 * the Jobs, so a restart between the two finds the attempt recorded and creates the same Job.
 */
import { ANNOTATION_RERUN } from '../api/labels.js';
import type { StageStatusV2, StageV2, StatusV2 } from '../api/v2/runbook.js';
import { setCondition, removeCondition, timestamp } from './conditions.js';
import { dependencies, graphProblem, stagesOf } from './graph.js';
import { planStageJob, type PlanContext } from './job-plan.js';
import { formatMicros, parseMicros } from './money.js';
import { executionId } from './naming.js';
import { stageOutcome } from './stage-outcome.js';
import type { Decision, EngineEvent, EngineInput, JobObservation, JobPlan, RunbookObject } from './types.js';

/** How long a finished Job may wait for its Pod's termination message to reach the cache. */
export const POD_REPORT_GRACE_MS = 30_000;

const TERMINAL_RUN = new Set(['Succeeded', 'Failed', 'TimedOut', 'BudgetExceeded', 'Cancelled']);
const TERMINAL_STAGE = new Set(['Succeeded', 'Failed', 'Skipped']);

type MutableStage = StageStatusV2;

function isTerminalStage(stage: MutableStage): boolean {
  return TERMINAL_STAGE.has(stage.phase);
}

function addUsage(stage: MutableStage, tokens: number, costMicros: number): void {
  const before = stage.usage ?? {};
  stage.usage = {
    tokens: (before.tokens ?? 0) + tokens,
    costUSD: formatMicros(parseMicros(before.costUSD ?? '0') + costMicros),
  };
}

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

class Run {
  readonly events: EngineEvent[] = [];
  readonly create: JobPlan[] = [];
  readonly deletes: { name: string; reason: string }[] = [];
  requeueAfterMs: number | undefined;
  readonly stages: Map<string, MutableStage>;
  readonly specStages: Map<string, StageV2>;

  constructor(
    readonly input: EngineInput,
    readonly execution: string,
    readonly status: StatusV2,
  ) {
    this.specStages = new Map(stagesOf(input.runbook.spec).map((stage) => [stage.name, stage]));
    const known = new Map((status.stages ?? []).map((stage) => [stage.name, stage]));
    this.stages = new Map(
      stagesOf(input.runbook.spec).map((stage) => [
        stage.name,
        known.get(stage.name) ?? { name: stage.name, phase: 'Pending' },
      ]),
    );
  }

  get now(): Date {
    return this.input.now;
  }

  requeueAfter(ms: number): void {
    this.requeueAfterMs = Math.min(this.requeueAfterMs ?? ms, ms);
  }

  event(type: EngineEvent['type'], reason: string, message: string): void {
    this.events.push({ type, reason, message });
  }

  finishStage(
    stage: MutableStage,
    phase: 'Succeeded' | 'Failed' | 'Skipped',
    reason: string,
    message: string,
  ): void {
    stage.phase = phase;
    stage.reason = reason;
    stage.message = message;
    stage.completionTime = timestamp(this.now);
    delete stage.nextAttemptTime;
  }

  retriesOf(spec: StageV2): number {
    return spec.config?.retries ?? this.input.runbook.spec.execution?.retries ?? 0;
  }

  /** Folds the Jobs of this execution into the stages' statuses. */
  observeJobs(): void {
    const latest = new Map<string, JobObservation>();
    for (const job of this.input.jobs) {
      if (job.execution !== this.execution) continue;
      const seen = latest.get(job.stage);
      if (!seen || job.attempt > seen.attempt) latest.set(job.stage, job);
    }
    for (const [name, stage] of this.stages) {
      const spec = this.specStages.get(name);
      const job = latest.get(name);
      if (!spec || !job || isTerminalStage(stage)) continue;
      const attempt = stage.attempt ?? 0;
      if (job.attempt < attempt) continue;
      if (job.attempt > attempt) {
        // The status lags behind the Jobs (it was written by an older reconcile): adopt the Job.
        Object.assign(stage, { phase: 'Running', attempt: job.attempt, job: job.name });
        stage.startTime ??= job.startTime ?? timestamp(this.now);
      } else if (stage.phase !== 'Running') {
        continue; // this attempt's result is already folded in
      }
      if (job.state === 'active') continue;
      if (!job.podTerminated && job.failureReason !== 'DeadlineExceeded') {
        const finishedAt = Date.parse(job.completionTime ?? '') || this.now.getTime();
        const waited = this.now.getTime() - finishedAt;
        if (waited < POD_REPORT_GRACE_MS) {
          this.requeueAfter(POD_REPORT_GRACE_MS - waited);
          continue;
        }
      }
      this.fold(stage, spec, job);
    }
  }

  private fold(stage: MutableStage, spec: StageV2, job: JobObservation): void {
    const outcome = stageOutcome(job, spec);
    addUsage(stage, outcome.tokens, outcome.costMicros);
    if (outcome.kind === 'succeeded') {
      stage.outputs = outcome.outputs;
      delete stage.lastError;
      this.finishStage(stage, 'Succeeded', 'Succeeded', `attempt ${job.attempt} succeeded`);
      this.event('Normal', 'StageSucceeded', `stage ${stage.name} succeeded on attempt ${job.attempt}`);
      return;
    }
    stage.lastError = outcome.errorClass;
    if (outcome.retryable && job.attempt <= this.retriesOf(spec)) {
      stage.phase = 'Retrying';
      stage.reason = outcome.reason;
      stage.message = `${outcome.message}; retry ${job.attempt} of ${this.retriesOf(spec)} follows`;
      this.event('Warning', 'StageRetrying', `stage ${stage.name}: ${stage.message}`);
      return;
    }
    this.finishStage(stage, 'Failed', outcome.reason, outcome.message);
    this.event(
      'Warning',
      'StageFailed',
      `stage ${stage.name} failed (${outcome.reason}): ${outcome.message}`,
    );
  }

  /** The stage that ends the run: failed with failurePolicy abort (the default). */
  abortingStage(): MutableStage | undefined {
    return [...this.stages.values()].find(
      (stage) =>
        stage.phase === 'Failed' &&
        stage.reason !== 'Aborted' &&
        (this.specStages.get(stage.name)?.config?.failurePolicy ?? 'abort') === 'abort',
    );
  }

  /** Marks stages whose dependencies failed or were skipped as Skipped; returns whether any changed. */
  skipBlocked(): boolean {
    let changed = false;
    const deps = dependencies(this.input.runbook.spec);
    for (const [name, stage] of this.stages) {
      if (stage.phase !== 'Pending') continue;
      const blocker = (deps.get(name)?.required ?? []).find((dep) => {
        const phase = this.stages.get(dep)?.phase;
        return phase === 'Failed' || phase === 'Skipped';
      });
      if (blocker) {
        this.finishStage(stage, 'Skipped', 'DependencyFailed', `dependency ${blocker} did not succeed`);
        this.event('Normal', 'StageSkipped', `stage ${name} skipped: dependency ${blocker} did not succeed`);
        changed = true;
      }
    }
    return changed;
  }

  private isReady(name: string, stage: MutableStage): boolean {
    if (stage.phase === 'Retrying') return true;
    if (stage.phase !== 'Pending') return false;
    const deps = dependencies(this.input.runbook.spec).get(name);
    const required = (deps?.required ?? []).every((dep) => this.stages.get(dep)?.phase === 'Succeeded');
    const after =
      deps?.after === undefined ||
      isTerminalStage(this.stages.get(deps.after) ?? { name: '', phase: 'Pending' });
    return required && after;
  }

  private planContext(): PlanContext {
    const { runbook, catalog } = this.input;
    const outputs: Record<string, Record<string, unknown>> = {};
    for (const stage of this.stages.values()) {
      if (stage.phase === 'Succeeded') outputs[stage.name] = stage.outputs ?? {};
    }
    return {
      runbook,
      execution: this.execution,
      catalog,
      scope: {
        context: runbook.spec.context ?? {},
        outputs,
        timestamp: this.status.startTime ?? timestamp(this.now),
        runbook: {
          name: runbook.metadata.name,
          namespace: runbook.metadata.namespace,
          version: runbook.spec.version,
        },
      },
    };
  }

  /** Jobs recorded in the status whose Job has not been observed: create them (again; the name is the same). */
  recreateUnobserved(): void {
    const observed = new Set(this.input.jobs.map((job) => job.name));
    for (const [name, stage] of this.stages) {
      const spec = this.specStages.get(name);
      if (stage.phase !== 'Running' || !stage.job || observed.has(stage.job) || !spec) continue;
      const planned = planStageJob(this.planContext(), spec, stage.attempt ?? 1);
      if ('plan' in planned && planned.plan.name === stage.job) this.create.push(planned.plan);
    }
  }

  /** Starts ready stages, in spec order, as far as the parallelism allows; returns whether any changed. */
  startReady(): boolean {
    if (this.input.runbook.spec.suspend) return false;
    const parallelism = this.input.runbook.spec.execution?.parallelism ?? 5;
    let running = [...this.stages.values()].filter((stage) => stage.phase === 'Running').length;
    let changed = false;
    for (const [name, stage] of this.stages) {
      const spec = this.specStages.get(name);
      if (!spec || !this.isReady(name, stage)) continue;
      if (running >= parallelism) break;
      const attempt = (stage.attempt ?? 0) + 1;
      const planned = planStageJob(this.planContext(), spec, attempt);
      changed = true;
      if ('problem' in planned) {
        stage.lastError = 'VALIDATION_ERROR';
        this.finishStage(stage, 'Failed', planned.problem.reason, planned.problem.message);
        this.event(
          'Warning',
          'StageFailed',
          `stage ${name} failed (${planned.problem.reason}): ${planned.problem.message}`,
        );
        continue;
      }
      Object.assign(stage, { phase: 'Running', attempt, job: planned.plan.name, reason: 'Started' });
      stage.message = `attempt ${attempt} running as Job ${planned.plan.name}`;
      stage.startTime ??= timestamp(this.now);
      this.create.push(planned.plan);
      running += 1;
      this.event(
        'Normal',
        'StageStarted',
        `stage ${name} attempt ${attempt} started as Job ${planned.plan.name}`,
      );
    }
    return changed;
  }

  /** Ends the run: stops running stages and skips the rest. */
  abort(cause: string): void {
    const activeJobs = new Map(
      this.input.jobs
        .filter((job) => job.execution === this.execution && job.state === 'active')
        .map((job) => [job.name, job]),
    );
    for (const stage of this.stages.values()) {
      if (stage.phase === 'Running') {
        if (stage.job && activeJobs.has(stage.job))
          this.deletes.push({ name: stage.job, reason: 'RunFailed' });
        this.finishStage(stage, 'Failed', 'Aborted', `stopped because ${cause}`);
      } else if (stage.phase === 'Pending' || stage.phase === 'Retrying') {
        this.finishStage(stage, 'Skipped', 'RunFailed', `not run because ${cause}`);
      }
    }
  }
}

function summarize(run: Run, failure: { reason: string; message: string } | undefined): StatusV2 {
  const { runbook, now } = run.input;
  const generation = runbook.metadata.generation;
  const status = run.status;
  const stages = [...run.stages.values()];
  status.stages = stages;
  const done = stages.filter(isTerminalStage).length;
  status.progress = `${done}/${stages.length}`;
  const tokens = stages.reduce((sum, stage) => sum + (stage.usage?.tokens ?? 0), 0);
  const micros = stages.reduce((sum, stage) => sum + parseMicros(stage.usage?.costUSD ?? '0'), 0);
  status.usage = { tokens, costUSD: formatMicros(micros) };
  let conditions = status.conditions ?? [];
  const previousPhase = status.phase;
  if (failure) {
    status.phase = 'Failed';
    conditions = setCondition(conditions, { type: 'Failed', status: 'True', ...failure }, now, generation);
    conditions = setCondition(conditions, { type: 'Ready', status: 'False', ...failure }, now, generation);
    conditions = setCondition(
      conditions,
      { type: 'Progressing', status: 'False', ...failure },
      now,
      generation,
    );
  } else if (done === stages.length) {
    status.phase = 'Succeeded';
    const failed = stages
      .filter((stage) => stage.phase !== 'Succeeded')
      .map((stage) => `${stage.name} (${stage.phase})`);
    const ready = failed.length
      ? { reason: 'CompletedWithFailures', message: `finished; not succeeded: ${failed.join(', ')}` }
      : { reason: 'Succeeded', message: `all ${stages.length} stages succeeded` };
    conditions = setCondition(conditions, { type: 'Ready', status: 'True', ...ready }, now, generation);
    conditions = setCondition(
      conditions,
      { type: 'Progressing', status: 'False', ...ready },
      now,
      generation,
    );
  } else {
    const started = stages.some((stage) => stage.phase !== 'Pending');
    status.phase = started ? 'Running' : 'Pending';
    const running = stages.filter((stage) => stage.phase === 'Running').map((stage) => stage.name);
    const notReady = { reason: 'Running', message: `${done}/${stages.length} stages finished` };
    conditions = setCondition(conditions, { type: 'Ready', status: 'False', ...notReady }, now, generation);
    conditions = runbook.spec.suspend
      ? setCondition(
          conditions,
          {
            type: 'Progressing',
            status: 'False',
            reason: 'Suspended',
            message: 'spec.suspend is true: no new stage starts',
          },
          now,
          generation,
        )
      : setCondition(
          conditions,
          {
            type: 'Progressing',
            status: 'True',
            reason: running.length ? 'StagesRunning' : 'Waiting',
            message: running.length ? `running: ${running.join(', ')}` : 'waiting for stages to become ready',
          },
          now,
          generation,
        );
  }
  conditions = runbook.spec.suspend
    ? setCondition(
        conditions,
        { type: 'Suspended', status: 'True', reason: 'Suspended', message: 'spec.suspend is true' },
        now,
        generation,
      )
    : removeCondition(conditions, 'Suspended');
  status.conditions = conditions;
  if (TERMINAL_RUN.has(status.phase) && previousPhase !== status.phase) {
    status.completionTime = timestamp(now);
    run.event(
      status.phase === 'Succeeded' ? 'Normal' : 'Warning',
      status.phase === 'Succeeded' ? 'RunSucceeded' : 'RunFailed',
      status.phase === 'Succeeded'
        ? `runbook finished: ${status.progress} stages`
        : `runbook failed: ${failure?.message ?? ''}`,
    );
  }
  return status;
}

export function decide(input: EngineInput): Decision {
  const { runbook, jobs, now } = input;
  const { generation, annotations } = runbook.metadata;
  const execution = executionId(generation, annotations?.[ANNOTATION_RERUN]);
  const fresh = runbook.status?.execution !== execution;
  const status: StatusV2 = fresh
    ? freshStatus(runbook, execution, now)
    : structuredClone(runbook.status ?? {});
  status.observedGeneration = generation;
  const run = new Run(input, execution, status);

  for (const job of jobs) {
    if (job.execution !== execution && job.state === 'active') {
      run.deletes.push({ name: job.name, reason: job.generation !== generation ? 'SpecChanged' : 'Rerun' });
    }
  }
  if (fresh) run.event('Normal', 'RunStarted', `started run ${execution} of generation ${generation}`);

  let failure: { reason: string; message: string } | undefined;
  if (TERMINAL_RUN.has(status.phase ?? '')) {
    return { status, create: [], delete: run.deletes, events: run.events };
  }
  const problem = graphProblem(runbook.spec);
  if (problem) {
    failure = { reason: 'InvalidDependencies', message: problem };
    run.abort(problem);
  } else {
    run.observeJobs();
    run.recreateUnobserved();
    for (let changed = true; changed && !failure;) {
      const aborting = run.abortingStage();
      if (aborting) {
        failure = {
          reason: 'StageFailed',
          message: `stage ${aborting.name} failed: ${aborting.message ?? aborting.reason ?? ''}`,
        };
        run.abort(`stage ${aborting.name} failed`);
        break;
      }
      changed = run.skipBlocked() || run.startReady();
    }
  }
  return {
    status: summarize(run, failure),
    create: run.create,
    delete: run.deletes,
    events: run.events,
    ...(run.requeueAfterMs === undefined ? {} : { requeueAfterMs: run.requeueAfterMs }),
  };
}
