/**
 * The state of one run in one reconcile: its stages' statuses (as the status holds them, then as
 * this reconcile changes them) and what the reconcile has decided so far (Jobs to create and
 * delete, outputs to store, Events, when to look again). fold.ts, schedule.ts and workflows.ts
 * move it; decide.ts says in which order.
 */
import type { StageStatusV2, StatusV2 } from '../../api/v2/runbook.js';
import type { ErrorClass } from '../stage/agent-report.js';
import { totalUsage, type Usage } from '../stage/budget.js';
import { timestamp } from '../model/conditions.js';
import { dependencies, type StageDependencies } from '../spec/graph.js';
import { parseItemName } from '../spec/for-each.js';
import { colocatedWorkspaces, workspaceNode } from '../stage/workspaces.js';
import type { EventReason, StageReason } from '../../api/reasons.js';
import type {
  CacheStore,
  ChildPlan,
  DeletionReason,
  EngineEvent,
  EngineInput,
  JobPlan,
  OutputStore,
} from '../model/types.js';
import {
  allStages,
  mainStages,
  validationStages,
  type RunStage,
  type Workflow,
} from '../spec/workflow-stages.js';

const TERMINAL_STAGE = new Set(['Succeeded', 'Failed', 'Skipped']);

export function isTerminalStage(stage: StageStatusV2): boolean {
  return TERMINAL_STAGE.has(stage.phase);
}

/** A stage its own `when` skipped: done, and its dependents still run. */
export function skippedByCondition(stage: Pick<StageStatusV2, 'phase' | 'reason'>): boolean {
  return stage.phase === 'Skipped' && stage.reason === 'ConditionNotMet';
}

/** Whether a dependency in this state lets its dependents start: succeeded, or skipped by its `when`. */
export function dependencyDone(stage: Pick<StageStatusV2, 'phase' | 'reason'> | undefined): boolean {
  return stage !== undefined && (stage.phase === 'Succeeded' || skippedByCondition(stage));
}

/**
 * Whether a Job of the runbook may be running: seen active, or not seen yet though the stored
 * status records it (the reconcile that created it ran before the cache saw it). A Job seen to
 * have ended does not run again.
 */
export function jobMayRun(input: EngineInput, name: string): boolean {
  const seen = input.jobs.find((job) => job.name === name);
  return seen
    ? seen.state === 'active'
    : (input.runbook.status?.stages?.some((stage) => stage.job === name) ?? false);
}

export class Run {
  readonly events: EngineEvent[] = [];
  readonly create: JobPlan[] = [];
  /** Outputs folded in this reconcile that the status cannot keep. */
  readonly store: OutputStore[] = [];
  /** Results of stages folded in this reconcile to keep for reuse. */
  readonly cacheStores: CacheStore[] = [];
  readonly deletes: { name: string; reason: DeletionReason }[] = [];
  /** Child runbooks to create, and to cancel. */
  readonly children: ChildPlan[] = [];
  readonly cancelChildren: string[] = [];
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
  /** Agents (by breaker key) whose one half-open probe starts in this reconcile. */
  readonly probing = new Set<string>();
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
    // Items of forEach stages get their specs back from restoreItems (fan-out.ts).
    const runs = (name: string) => {
      const item = parseItemName(name);
      return (
        this.specStages.has(name) ||
        (item !== undefined && this.specStages.get(item.stage)?.forEach !== undefined)
      );
    };
    this.stages = new Map(
      [...planned, ...joined].filter(runs).map((name) => {
        const workflow = this.specStages.get(name)?.workflow ?? 'main';
        return [name, known.get(name) ?? { name, workflow, phase: 'Pending' as const }];
      }),
    );
  }

  /**
   * The Job of a stage that stops: not created when this reconcile planned it, and deleted when it
   * may run (jobMayRun). A Job seen to have ended stays, with its outcome.
   */
  stopJob(name: string): void {
    const planned = this.create.findIndex((plan) => plan.name === name);
    if (planned >= 0) this.create.splice(planned, 1);
    if (jobMayRun(this.input, name)) this.deletes.push({ name, reason: 'RunStopped' });
  }

  /** The child runbook of a stage that stops: not created when this reconcile planned it, else cancelled. */
  stopChild(name: string): void {
    const planned = this.children.findIndex((plan) => plan.name === name);
    if (planned >= 0) this.children.splice(planned, 1);
    const recorded = this.input.runbook.status?.stages?.some((stage) => stage.child === name) ?? false;
    const seen = this.input.children?.some((child) => child.name === name) ?? false;
    if (seen || recorded) this.cancelChildren.push(name);
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

  /** Fallback and emergency steps may also spend the emergency token reserve. */
  get usesReserve(): boolean {
    return this.activeWorkflow === 'fallback' || this.activeWorkflow === 'emergency';
  }

  requeueAfter(ms: number): void {
    const wait = Math.max(1, Math.ceil(ms));
    this.requeueAfterMs = Math.min(this.requeueAfterMs ?? wait, wait);
  }

  event(type: EngineEvent['type'], reason: EventReason, message: string): void {
    this.events.push({ type, reason, message });
  }

  finishStage(
    stage: StageStatusV2,
    phase: 'Succeeded' | 'Failed' | 'Skipped',
    reason: StageReason,
    message: string,
  ): void {
    stage.phase = phase;
    stage.reason = reason;
    stage.message = message;
    stage.completionTime = timestamp(this.now);
    delete stage.nextAttemptTime;
  }
}
