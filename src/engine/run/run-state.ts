/**
 * The stages of one run and how they move: Jobs observed are folded into their stage's status,
 * ready stages start (within the parallelism, the budgets and the gates), failed ones wait for
 * their retry time, and a run that ends stops what still runs.
 */
import { setOwn } from '../../api/json.js';
import type { StageStatusV2, StatusV2 } from '../../api/v2/runbook.js';
import type { ErrorClass, Resources } from '../stage/agent-report.js';
import {
  addTokens,
  grantFor,
  isCapped,
  overGrant,
  reservedBy,
  totalUsage,
  type Grant,
  type Usage,
} from '../stage/budget.js';
import { breakerConfig, breakerState } from '../stage/circuit-breaker.js';
import { breakerKeyOf } from '../spec/catalog.js';
import { timestamp } from '../model/conditions.js';
import { dependencies, type StageDependencies } from '../spec/graph.js';
import { planStageJob, type PlanContext } from '../stage/job-plan.js';
import { addMicros, formatMicros, parseMicros } from '../../api/grammar.js';
import { retryPolicy } from '../stage/retry.js';
import { stageOutcome, type StageOutcome } from '../stage/stage-outcome.js';
import { splitOutputs, StoredOutput, storedOutputsName } from '../spec/stored-outputs.js';
import { colocatedWorkspaces, workspaceNode } from '../stage/workspaces.js';
import { MAX_OUTPUT_BYTES } from '../../api/agent-contract.js';
import type {
  AgentHistory,
  EngineEvent,
  EngineInput,
  JobObservation,
  JobPlan,
  Notification,
  OutputStore,
} from '../model/types.js';
import {
  allStages,
  emergencyStages,
  emergencyTargets,
  fallbackStages,
  mainStages,
  validationStages,
  type RunStage,
  type Workflow,
} from '../spec/workflow-stages.js';

/** What lets stages start in this reconcile, decided before they do. */
export interface StartLimits {
  /** Stages that may not start yet, and why (gates). */
  held: Map<string, string>;
  /** Why no stage may start at all (a gate on the run), if anything stops them. */
  startBlocked?: string;
  /** What is left of the run's time limit. */
  runRemainingMs?: number;
}

/** How long a finished Job may wait for its Pod's termination message to reach the cache. */
export const POD_REPORT_GRACE_MS = 30_000;

const TERMINAL_STAGE = new Set(['Succeeded', 'Failed', 'Skipped']);
const NO_HISTORY: AgentHistory = { finished: [], running: 0 };

export function isTerminalStage(stage: StageStatusV2): boolean {
  return TERMINAL_STAGE.has(stage.phase);
}

/**
 * Whether a Job's result is still to be folded into its stage: a newer attempt than the status
 * knows (the status lags behind the Jobs), or the attempt the stage runs.
 */
export function awaitsFold(stage: StageStatusV2 | undefined, job: JobObservation): boolean {
  if (!stage) return true;
  if (isTerminalStage(stage)) return false;
  const attempt = stage.attempt ?? 0;
  return job.attempt > attempt || (job.attempt === attempt && stage.phase === 'Running');
}

/** Adds an attempt's usage to its stage's; resolves whether a figure has just saturated. */
function addUsage(stage: StageStatusV2, tokens: number, costMicros: number): boolean {
  const before = stage.usage ?? {};
  const sum = {
    tokens: addTokens(before.tokens ?? 0, tokens),
    costMicros: addMicros(parseMicros(before.costUSD ?? '0'), costMicros),
  };
  const capped = isCapped(sum) || isCapped({ tokens, costMicros });
  stage.usage = {
    tokens: sum.tokens,
    costUSD: formatMicros(sum.costMicros),
    ...(capped || before.capped ? { capped: true } : {}),
  };
  return capped && !before.capped;
}

/** Peak memory is the most of any attempt; CPU time adds up over attempts. */
function addResources(stage: StageStatusV2, reported: Resources | undefined): void {
  if (!reported) return;
  const before = stage.resources ?? {};
  const memory = Math.max(before.memoryPeakBytes ?? 0, reported.memoryPeakBytes ?? 0);
  const cpu = (before.cpuSeconds ?? 0) + (reported.cpuSeconds ?? 0);
  stage.resources = {
    ...(memory ? { memoryPeakBytes: memory } : {}),
    ...(cpu ? { cpuSeconds: Math.round(cpu * 1000) / 1000 } : {}),
  };
}

/** Whether a validation agent's report holds a critical finding. */
export function hasCriticalFinding(outputs: Record<string, unknown>): boolean {
  const findings = Array.isArray(outputs.findings) ? (outputs.findings as unknown[]) : [];
  const critical = findings.some(
    (finding) =>
      typeof finding === 'object' &&
      finding !== null &&
      String((finding as { severity?: unknown }).severity).toLowerCase() === 'critical',
  );
  return critical || (typeof outputs.critical === 'number' && outputs.critical > 0);
}

/** A report above the attempt's grant fails the stage, whatever the agent says; its usage still counts. */
function withinGrant(outcome: StageOutcome, grant: Grant | undefined, attempt: number): StageOutcome {
  const over = overGrant(grant, outcome.tokens, outcome.costMicros);
  if (!over) return outcome;
  return {
    kind: 'failed',
    reason: 'AgentBudgetExceeded',
    message: `attempt ${attempt} ${over}`,
    errorClass: 'QUOTA_EXCEEDED',
    retryable: false,
    tokens: outcome.tokens,
    costMicros: outcome.costMicros,
    ...(outcome.resources ? { resources: outcome.resources } : {}),
  };
}

export class Run {
  readonly events: EngineEvent[] = [];
  readonly create: JobPlan[] = [];
  /** Outputs folded in this reconcile that the status cannot keep. */
  readonly store: OutputStore[] = [];
  readonly deletes: { name: string; reason: string }[] = [];
  requeueAfterMs: number | undefined;
  readonly stages: Map<string, StageStatusV2>;
  readonly specStages: Map<string, RunStage>;
  readonly deps: Map<string, StageDependencies>;
  /** The last failure of an emergency trigger class folded in this reconcile, and how many there were. */
  emergency: { stage: string; errorClass: ErrorClass } | undefined;
  newEmergencyTriggers = 0;
  /** Main-workflow failures of fallback trigger classes folded in this reconcile. */
  newFallbackTriggers = 0;
  /** Agents whose breaker is open, with the time it may half-open. */
  readonly openBreakers = new Map<string, number>();
  /** Workspaces whose stages stay on one node, and that node once one of them was scheduled. */
  readonly colocated: { workspaces: ReadonlySet<string>; node?: string };

  constructor(
    readonly input: EngineInput,
    readonly execution: string,
    readonly status: StatusV2,
  ) {
    const spec = input.runbook.spec;
    const every = allStages(spec);
    this.specStages = new Map(every.map((stage) => [stage.name, stage]));
    this.deps = dependencies(every);
    const workspaces = colocatedWorkspaces(spec, every);
    const node = workspaceNode(execution, input.jobs, this.specStages, workspaces);
    this.colocated = { workspaces, ...(node ? { node } : {}) };
    const known = new Map((status.stages ?? []).map((stage) => [stage.name, stage]));
    // Main and validation stages are planned from the start; fallback and emergency ones join when they take over.
    const planned = [...mainStages(spec), ...validationStages(spec)].map((stage) => stage.name);
    const joined = (status.stages ?? []).map((stage) => stage.name).filter((name) => !planned.includes(name));
    this.stages = new Map(
      [...planned, ...joined]
        .filter((name) => this.specStages.has(name))
        .map((name) => {
          const workflow = this.specStages.get(name)?.workflow ?? 'main';
          return [name, known.get(name) ?? { name, workflow, phase: 'Pending' as const }];
        }),
    );
  }

  get activeWorkflow(): Workflow {
    return this.status.workflow?.active ?? 'main';
  }

  /** Adds the stages of a workflow that takes over, and makes it the active one. */
  activate(workflow: Workflow, stages: RunStage[] = []): void {
    for (const stage of stages) {
      if (!this.stages.has(stage.name))
        this.stages.set(stage.name, { name: stage.name, workflow, phase: 'Pending' });
    }
    this.status.workflow = { ...this.status.workflow, active: workflow };
  }

  stagesOf(workflow: Workflow): StageStatusV2[] {
    return [...this.stages.values()].filter((stage) => (stage.workflow ?? 'main') === workflow);
  }

  get now(): Date {
    return this.input.now;
  }

  get spec() {
    return this.input.runbook.spec;
  }

  usage(): Usage {
    return totalUsage([...this.stages.values()]);
  }

  requeueAfter(ms: number): void {
    const wait = Math.max(1, Math.ceil(ms));
    this.requeueAfterMs = Math.min(this.requeueAfterMs ?? wait, wait);
  }

  event(type: EngineEvent['type'], reason: string, message: string): void {
    this.events.push({ type, reason, message });
  }

  finishStage(
    stage: StageStatusV2,
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
      if (!spec || !job || !awaitsFold(stage, job)) continue;
      if (job.attempt > (stage.attempt ?? 0)) {
        // The status lags behind the Jobs (it was written by an older reconcile): adopt the Job.
        Object.assign(stage, { phase: 'Running', attempt: job.attempt, job: job.name });
        delete stage.nextAttemptTime;
        stage.startTime ??= job.startTime ?? timestamp(this.now);
      }
      if (job.state === 'active') {
        this.noteUnschedulable(stage, spec, job);
        continue;
      }
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

  /**
   * A running stage whose Pod the scheduler cannot place says so, and why: the stage's own
   * deadline still bounds the wait. Once placed it says it runs again.
   */
  private noteUnschedulable(stage: StageStatusV2, spec: RunStage, job: JobObservation): void {
    if (job.unschedulable === undefined) {
      if (stage.reason !== 'Unschedulable') return;
      stage.reason = 'Started';
      stage.message = `attempt ${job.attempt} running as Job ${job.name}`;
      return;
    }
    const shared = (spec.workspaces ?? []).filter((binding) => this.colocated.workspaces.has(binding.name));
    const where = shared.length
      ? ` It must run ${this.colocated.node ? `on node ${this.colocated.node}` : 'on one node'} with the other stages that share workspace ${shared.map((binding) => binding.name).join(', ')} (ReadWriteOnce).`
      : '';
    const message = `attempt ${job.attempt} (Job ${job.name}) waits for a node: ${job.unschedulable.replace(/\.+$/, '')}.${where}`;
    if (stage.reason !== 'Unschedulable') {
      this.event('Warning', 'StageUnschedulable', `stage ${stage.name}: ${message}`);
    }
    stage.reason = 'Unschedulable';
    stage.message = message.slice(0, 4096);
  }

  /** Keeps a stage's outputs: small ones in its status, the others in a ConfigMap it refers to. */
  private keepOutputs(
    stage: StageStatusV2,
    job: JobObservation,
    outcome: Extract<StageOutcome, { kind: 'succeeded' }>,
  ): void {
    const split = splitOutputs(outcome.outputs, outcome.encoded, {
      name: storedOutputsName(job.name),
      stage: stage.name,
      execution: this.execution,
    });
    stage.outputs = split.inline;
    if (split.refs) stage.outputRefs = split.refs;
    else delete stage.outputRefs;
    if (split.store) this.store.push(split.store);
  }

  private fold(stage: StageStatusV2, spec: RunStage, job: JobObservation): void {
    const maxOutputBytes = this.input.maxOutputBytes ?? MAX_OUTPUT_BYTES;
    const outcome = withinGrant(stageOutcome(job, spec, maxOutputBytes), stage.grant, job.attempt);
    if (addUsage(stage, outcome.tokens, outcome.costMicros)) {
      this.event(
        'Warning',
        'UsageCapped',
        `stage ${stage.name} reported usage beyond what the status can hold (${outcome.tokens} tokens, $${formatMicros(outcome.costMicros)} as read): it is kept at the most, and marked capped`,
      );
    }
    addResources(stage, outcome.resources);
    if (
      outcome.kind === 'succeeded' &&
      spec.workflow === 'validation' &&
      spec.config?.parameters?.failOnCritical === true
    ) {
      if (hasCriticalFinding(outcome.outputs)) {
        this.keepOutputs(stage, job, outcome);
        this.finishStage(
          stage,
          'Failed',
          'ValidationFailed',
          `${spec.agent ?? spec.name} reported a critical finding`,
        );
        this.event(
          'Warning',
          'ValidationFailed',
          `stage ${stage.name}: ${spec.agent ?? spec.name} reported a critical finding`,
        );
        return;
      }
    }
    if (outcome.kind === 'succeeded') {
      this.keepOutputs(stage, job, outcome);
      delete stage.lastError;
      this.finishStage(stage, 'Succeeded', 'Succeeded', `attempt ${job.attempt} succeeded`);
      this.event('Normal', 'StageSucceeded', `stage ${stage.name} succeeded on attempt ${job.attempt}`);
      return;
    }
    stage.lastError = outcome.errorClass;
    if (
      this.spec.workflows?.emergency?.trigger.conditions.includes(outcome.errorClass) &&
      spec.workflow !== 'emergency'
    ) {
      this.emergency = { stage: stage.name, errorClass: outcome.errorClass };
      this.newEmergencyTriggers += 1;
    }
    if (
      spec.workflow === 'main' &&
      this.spec.workflows?.fallback?.trigger.conditions.includes(outcome.errorClass)
    ) {
      this.newFallbackTriggers += 1;
    }
    const policy = retryPolicy(this.spec, spec);
    if (outcome.retryable && policy.retries(outcome.errorClass) && job.attempt <= policy.maxRetries) {
      const failedAt = Date.parse(job.completionTime ?? '') || this.now.getTime();
      const next = new Date(failedAt + policy.delayMs(job.attempt, job.name));
      stage.phase = 'Retrying';
      stage.reason = outcome.reason;
      stage.nextAttemptTime = next.toISOString();
      stage.message = `${outcome.message}; retry ${job.attempt} of ${policy.maxRetries} at ${stage.nextAttemptTime}`;
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
  abortingStage(): StageStatusV2 | undefined {
    return [...this.stages.values()].find(
      (stage) =>
        (stage.workflow ?? 'main') === this.activeWorkflow &&
        stage.phase === 'Failed' &&
        stage.reason !== 'Aborted' &&
        (this.specStages.get(stage.name)?.config?.failurePolicy ?? 'abort') === 'abort',
    );
  }

  /** Marks stages whose dependencies failed or were skipped as Skipped; returns whether any changed. */
  skipBlocked(): boolean {
    let changed = false;
    for (const [name, stage] of this.stages) {
      if (stage.phase !== 'Pending') continue;
      const blocker = (this.deps.get(name)?.required ?? []).find((dep) => {
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

  /** Whether the stage's dependencies let it start (ignoring time, gates, budgets and the cap). */
  dependenciesMet(name: string, stage: StageStatusV2): boolean {
    if (stage.phase === 'Retrying') return true;
    if (stage.phase !== 'Pending') return false;
    const deps = this.deps.get(name);
    const required = (deps?.required ?? []).every((dep) => this.stages.get(dep)?.phase === 'Succeeded');
    const after =
      deps?.after === undefined ||
      isTerminalStage(this.stages.get(deps.after) ?? { name: '', phase: 'Pending' });
    return required && after;
  }

  private retryDue(stage: StageStatusV2): boolean {
    if (stage.phase !== 'Retrying' || !stage.nextAttemptTime) return true;
    const wait = Date.parse(stage.nextAttemptTime) - this.now.getTime();
    if (wait <= 0) return true;
    this.requeueAfter(wait);
    return false;
  }

  private planContext(grant: Grant, runRemainingMs: number | undefined): PlanContext {
    const { runbook, catalog } = this.input;
    const outputs: Record<string, Record<string, unknown>> = {};
    for (const stage of this.stages.values()) {
      if (stage.phase !== 'Succeeded') continue;
      const all = { ...stage.outputs };
      for (const [name, ref] of Object.entries(stage.outputRefs ?? {}))
        setOwn(all, name, new StoredOutput(stage.name, name, ref));
      setOwn(outputs, stage.name, all);
      const alias = this.specStages.get(stage.name)?.alias;
      if (alias) setOwn(outputs, alias, all);
    }
    return {
      runbook,
      execution: this.execution,
      catalog,
      grant,
      colocated: this.colocated,
      ...(runRemainingMs === undefined ? {} : { runRemainingMs }),
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
  recreateUnobserved(runRemainingMs: number | undefined): void {
    const observed = new Set(this.input.jobs.map((job) => job.name));
    for (const [name, stage] of this.stages) {
      const spec = this.specStages.get(name);
      if (stage.phase !== 'Running' || !stage.job || observed.has(stage.job) || !spec) continue;
      const context = this.planContext(stage.grant ?? {}, runRemainingMs);
      const planned = planStageJob(context, spec, stage.attempt ?? 1);
      if ('plan' in planned && planned.plan.name === stage.job) this.create.push(planned.plan);
    }
  }

  /** Starts ready stages of the active workflow, in order, as far as the parallelism allows; returns whether any changed. */
  startReady(limits: StartLimits): boolean {
    if (this.spec.suspend || limits.startBlocked) return false;
    const parallelism = this.spec.execution?.parallelism ?? 5;
    let running = [...this.stages.values()].filter((stage) => stage.phase === 'Running').length;
    let changed = false;
    for (const [name, stage] of this.stages) {
      const spec = this.specStages.get(name);
      if (!spec || spec.workflow !== this.activeWorkflow || limits.held.has(name)) continue;
      if (!this.dependenciesMet(name, stage) || !this.retryDue(stage) || !this.breakerAllows(spec, stage))
        continue;
      if (running >= parallelism) break;
      const { grant, waitFor } = grantFor(
        this.spec,
        this.usage(),
        reservedBy([...this.stages.values()]),
        this.usesReserve,
      );
      if (waitFor) {
        stage.reason = 'WaitingForBudget';
        stage.message = `waiting for a budget grant: ${waitFor}`;
        break;
      }
      const attempt = (stage.attempt ?? 0) + 1;
      const planned = planStageJob(this.planContext(grant, limits.runRemainingMs), spec, attempt);
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
      Object.assign(stage, { phase: 'Running', attempt, job: planned.plan.name, reason: 'Started', grant });
      delete stage.nextAttemptTime;
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

  /** Fallback and emergency steps may also spend the emergency token reserve. */
  get usesReserve(): boolean {
    return this.activeWorkflow === 'fallback' || this.activeWorkflow === 'emergency';
  }

  private readonly probing = new Set<string>();

  /** Whether the agent's circuit breaker lets this stage start now; holds it (CircuitOpen) if not. */
  private breakerAllows(spec: RunStage, stage: StageStatusV2): boolean {
    const agent = spec.agent ?? spec.name;
    const key = breakerKeyOf(this.input.catalog, agent);
    const history = this.input.agentHistory?.get(key) ?? NO_HISTORY;
    const breaker = breakerState(history, breakerConfig(this.input.catalog, key), this.now.getTime());
    if (breaker.state === 'closed') return true;
    if (breaker.state === 'half-open' && !breaker.probeRunning && !this.probing.has(key)) {
      this.probing.add(key); // one probe at a time
      return true;
    }
    const until = breaker.state === 'open' ? breaker.until : this.now.getTime() + 1000;
    this.openBreakers.set(agent, until);
    stage.reason = 'CircuitOpen';
    stage.message =
      breaker.state === 'open'
        ? `agent ${agent} failed ${breaker.failures} times in a row; its circuit breaker is open until ${new Date(until).toISOString()}`
        : `agent ${agent}'s circuit breaker lets one probe through at a time; waiting for it`;
    this.requeueAfter(until - this.now.getTime());
    return false;
  }

  /**
   * Counts the failures of emergency trigger classes (in any workflow but the emergency one, over
   * the whole run, as fallback triggers are counted); at the threshold (1 by default) the
   * emergency stops everything at once, tells the notify targets, and runs the emergency steps.
   */
  startEmergency(): Notification[] {
    const trigger = this.emergency;
    const emergency = this.spec.workflows?.emergency;
    if (this.activeWorkflow === 'emergency' || !emergency) return [];
    const triggers = (this.status.workflow?.emergencyTriggers ?? 0) + this.newEmergencyTriggers;
    if (triggers > 0)
      this.status.workflow = {
        active: this.activeWorkflow,
        ...this.status.workflow,
        emergencyTriggers: triggers,
      };
    const threshold = emergency.trigger.threshold ?? 1;
    if (!trigger || triggers < threshold) return [];
    const cause =
      threshold > 1
        ? `${triggers} failures of classes ${emergency.trigger.conditions.join(', ')}, the last ${trigger.errorClass} reported by stage ${trigger.stage}`
        : `${trigger.errorClass} reported by stage ${trigger.stage}`;
    this.stop(cause, ['main', 'fallback', 'validation'], 'EmergencyStopped', 'EmergencyStopped');
    this.activate('emergency', emergencyStages(this.spec));
    this.status.workflow = { ...this.status.workflow, active: 'emergency', emergencyCause: cause };
    const { namespace, name } = this.input.runbook.metadata;
    return emergencyTargets(this.spec).map((target) => {
      const message = `emergency stop of runbook ${namespace}/${name}: ${cause}`;
      this.event('Warning', 'EmergencyNotification', `notifying ${target}: ${message}`);
      return { target, reason: 'EmergencyStop', message };
    });
  }

  /** Counts fallback triggers and lets the fallback workflow take over at the threshold. */
  considerFallback(): void {
    const fallback = this.spec.workflows?.fallback;
    const triggers = (this.status.workflow?.fallbackTriggers ?? 0) + this.newFallbackTriggers;
    this.status.workflow = {
      ...this.status.workflow,
      active: this.activeWorkflow,
      fallbackTriggers: triggers,
    };
    if (!fallback || this.activeWorkflow !== 'main' || triggers < (fallback.trigger.threshold ?? 1)) return;
    const cause = `${triggers} failures of classes ${fallback.trigger.conditions.join(', ')}`;
    this.stop(
      `the fallback workflow took over after ${cause}`,
      ['main'],
      'StoppedForFallback',
      'FallbackActive',
    );
    this.activate('fallback', fallbackStages(this.spec));
    this.event('Warning', 'FallbackActivated', `the fallback workflow takes over after ${cause}`);
  }

  /** Moves from a finished main (or fallback) workflow to the validation stages. */
  advanceWorkflow(): boolean {
    const active = this.activeWorkflow;
    if (active !== 'main' && active !== 'fallback') return false;
    if (!this.stagesOf(active).every(isTerminalStage)) return false;
    if (this.stagesOf('validation').length === 0) return false;
    this.activate('validation');
    return true;
  }

  /** Stops the running stages of the given workflows (their Jobs are deleted) and skips their other stages. */
  stop(cause: string, workflows: Workflow[], stopped = 'Aborted', skipped = 'RunStopped'): void {
    const active = new Set(
      this.input.jobs
        .filter((job) => job.execution === this.execution && job.state === 'active')
        .map((job) => job.name),
    );
    for (const stage of this.stages.values()) {
      if (!workflows.includes(stage.workflow ?? 'main')) continue;
      if (stage.phase === 'Running') {
        if (stage.job && active.has(stage.job)) this.deletes.push({ name: stage.job, reason: 'RunStopped' });
        this.finishStage(stage, 'Failed', stopped, `stopped because ${cause}`);
      } else if (stage.phase === 'Retrying') {
        // It ran and failed: it keeps that outcome, and says why no retry follows.
        this.finishStage(
          stage,
          'Failed',
          stage.reason ?? 'AgentFailed',
          `${stage.message ?? ''}; not retried because ${cause}`,
        );
      } else if (stage.phase === 'Pending') {
        this.finishStage(stage, 'Skipped', skipped, `not run because ${cause}`);
      }
    }
  }

  /** Ends the run: stops everything. */
  stopAll(cause: string): void {
    this.stop(cause, ['main', 'fallback', 'emergency', 'validation']);
  }
}
