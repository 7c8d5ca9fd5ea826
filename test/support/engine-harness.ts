/**
 * Drives the pure engine without a cluster: keeps a runbook and its Jobs as plain observations,
 * applies each decision the way the controller would (status first, then Jobs), and lets a test
 * finish Jobs as it likes.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENV } from '../../src/api/agent-contract.js';
import type { Slot } from '../../src/engine/run/concurrency.js';
import type { AgentCatalog } from '../../src/api/catalog.js';
import { writeReport } from '../../src/agent/sdk.js';
import type { SpecV2 } from '../../src/api/v2/runbook.js';
import { timestamp } from '../../src/engine/model/conditions.js';
import { decide } from '../../src/engine/run/decide.js';
import type { DecisionRecord } from '../../src/engine/spec/gates.js';
import type { GatePolicyRecord } from '../../src/engine/spec/gate-policies.js';
import { fitStatusToSchema, validateStatus } from '../../src/api/status-schema.js';
import type { MemoryResults } from './memory-results.js';
import type {
  AgentHistory,
  ChildObservation,
  ChildPlan,
  Decision,
  JobObservation,
  JobPlan,
  RunbookObject,
} from '../../src/engine/model/types.js';

export const TEST_CATALOG: AgentCatalog = {
  agents: [{ name: '*', image: 'unused' }],
};

/** A catalog that knows every agent the given spec names. */
export function catalogFor(spec: SpecV2): AgentCatalog {
  const names = new Set((spec.agents.pipeline ?? []).map((stage) => stage.agent ?? stage.name));
  return { agents: [...names].map((name) => ({ name, image: `example.com/agents/${name}:1` })) };
}

/** The controller hands the engine its informer's cached object: the engine must never write it. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}

export function runbookOf(spec: SpecV2, generation = 1): RunbookObject {
  return { metadata: { name: 'rb', namespace: 'ns', uid: 'uid-1', generation }, spec };
}

export class EngineHarness {
  jobs: JobObservation[] = [];
  plans = new Map<string, JobPlan>();
  now = new Date('2026-01-01T00:00:00Z');
  last: Decision | undefined;
  /** Agents' recent Jobs across runbooks (circuit breakers). */
  agentHistory = new Map<string, AgentHistory>();
  /** The operator's --max-output-bytes, when a test sets one. */
  maxOutputBytes: number | undefined;
  /** The controller's answer to whether a run may start (concurrency limits), when a test sets one. */
  slot: Slot | undefined;
  /** The runbook's GateDecisions, as the webhook recorded them. */
  decisions: DecisionRecord[] = [];
  /** The gate policies of the runbook's namespace and the cluster. */
  gatePolicies: GatePolicyRecord[] = [];
  /** The namespace's stored results, when a test caches stages. */
  results: MemoryResults | undefined;
  /** Child runbooks the decisions created, as the controller observes them. */
  children: ChildObservation[] = [];
  /** Child runbooks the decisions created, with the specs they were created with. */
  childPlans = new Map<string, ChildPlan>();
  /** AgentRunbooks of the namespace a stage's runbook.name may copy. */
  runbookSpecs = new Map<string, SpecV2>();
  /** How many runbooks own this one. */
  depth: number | undefined;

  constructor(
    public runbook: RunbookObject,
    public catalog: AgentCatalog = catalogFor(runbook.spec),
  ) {}

  /**
   * The engine's decision from a frozen runbook, its status cut to the schema's lengths as the controller writes it;
   * a status the schema still refuses fails the test that produced it.
   */
  decideOnly(): Decision {
    const decision = decide({
      runbook: deepFreeze(structuredClone(this.runbook)),
      jobs: this.jobs,
      now: this.now,
      catalog: this.catalog,
      agentHistory: this.agentHistory,
      ...(this.maxOutputBytes === undefined ? {} : { maxOutputBytes: this.maxOutputBytes }),
      ...(this.slot ? { slot: this.slot } : {}),
      decisions: deepFreeze(structuredClone(this.decisions)),
      gatePolicies: deepFreeze(structuredClone(this.gatePolicies)),
      ...(this.results ? { resultCache: this.results.view(this.now) } : {}),
      children: deepFreeze(structuredClone(this.children)),
      runbookSpec: (name) => this.runbookSpecs.get(name),
      ...(this.depth === undefined ? {} : { depth: this.depth }),
    });
    const status = fitStatusToSchema(decision.status);
    const invalid = validateStatus(status);
    if (invalid.length) {
      throw new Error(`the engine produced an invalid status: ${JSON.stringify(invalid)}`);
    }
    return { ...decision, status };
  }

  /** One reconcile: decide, write the status, delete and create Jobs. */
  step(): Decision {
    const decision = this.decideOnly();
    this.results?.keep(decision.cacheStores ?? []);
    this.runbook = { ...this.runbook, status: decision.status };
    const deleted = new Set(decision.delete.map((d) => d.name));
    this.jobs = this.jobs.filter((job) => !deleted.has(job.name));
    for (const plan of decision.children ?? []) {
      if (this.children.some((child) => child.name === plan.name)) continue;
      this.childPlans.set(plan.name, plan);
      this.children.push({
        name: plan.name,
        stage: plan.stage,
        execution: plan.execution,
        attempt: plan.attempt,
        phase: 'Running',
        stages: [],
      });
    }
    for (const name of decision.cancelChildren ?? []) {
      const child = this.children.find((candidate) => candidate.name === name);
      if (child) child.phase = 'Cancelled';
    }
    for (const plan of decision.create) {
      if (this.jobs.some((job) => job.name === plan.name)) continue;
      this.plans.set(plan.name, plan);
      this.jobs.push({
        name: plan.name,
        stage: plan.stage,
        execution: plan.execution,
        generation: plan.generation,
        attempt: plan.attempt,
        // What the Job's annotation gives back (controller/observe.ts).
        ...(plan.grant ? { grant: plan.grant } : {}),
        state: 'active',
        startTime: this.now.toISOString(),
        podTerminated: false,
      });
    }
    this.last = decision;
    this.now = new Date(this.now.getTime() + 1000);
    return decision;
  }

  active(): JobObservation[] {
    return this.jobs.filter((job) => job.state === 'active');
  }

  activeFor(stage: string): JobObservation {
    const job = this.active().find((j) => j.stage === stage);
    if (!job)
      throw new Error(
        `no active Job for stage ${stage}; active: ${this.active()
          .map((j) => j.stage)
          .join(', ')}`,
      );
    return job;
  }

  succeed(
    stage: string,
    outputs: Record<string, unknown> = {},
    usage = { tokens: 10, costUSD: '0.01' },
  ): void {
    // As the agent SDK writes it: a report over the termination message's 4 KiB goes to the log.
    const dir = mkdtempSync(join(tmpdir(), 'engine-harness-'));
    try {
      let line: string | undefined;
      const path = join(dir, 'termination-log');
      writeReport({ outputs, usage, resources: {} }, { [ENV.reportPath]: path }, (text) => (line = text));
      this.finish(
        stage,
        'succeeded',
        readFileSync(path, 'utf8'),
        line === undefined ? {} : { reportLog: { line } },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  fail(stage: string, report?: Record<string, unknown>, extra: Partial<JobObservation> = {}): void {
    this.finish(stage, 'failed', report === undefined ? undefined : JSON.stringify(report), extra);
  }

  finish(
    stage: string,
    state: 'succeeded' | 'failed',
    terminationMessage: string | undefined,
    extra: Partial<JobObservation> = {},
  ): void {
    const job = this.activeFor(stage);
    Object.assign(job, {
      state,
      podTerminated: true,
      completionTime: this.now.toISOString(),
      exitCode: state === 'succeeded' ? 0 : 1,
      ...(terminationMessage === undefined ? {} : { terminationMessage }),
      ...extra,
    });
  }

  /** The running child runbook of a stage. */
  childOf(stage: string): ChildObservation {
    const child = this.children.find(
      (candidate) => candidate.stage === stage && candidate.phase === 'Running',
    );
    if (!child) throw new Error(`no running child runbook for stage ${stage}`);
    return child;
  }

  /** Ends a stage's child runbook as it would end: its phase, its stages, what it used. */
  endChild(
    stage: string,
    phase: string,
    stages: ChildObservation['stages'] = [],
    usage = { tokens: 50, costUSD: '0.05' },
    message = '',
  ): void {
    Object.assign(this.childOf(stage), { phase, stages, usage, message });
  }

  stage(name: string) {
    const stage = this.runbook.status?.stages?.find((s) => s.name === name);
    if (!stage) throw new Error(`no status for stage ${name}`);
    return stage;
  }

  get phase(): string | undefined {
    return this.runbook.status?.phase;
  }

  condition(type: string) {
    return this.runbook.status?.conditions?.find((c) => c.type === type);
  }
}

export function spec(
  partial: Partial<SpecV2> & { stages: NonNullable<SpecV2['agents']['pipeline']> },
): SpecV2 {
  const { stages, ...rest } = partial;
  return {
    version: '1.0.0',
    execution: { mode: 'hybrid', parallelism: 5 },
    ...rest,
    agents: { ...rest.agents, pipeline: stages },
  };
}

/**
 * A GateDecision as it reaches the engine after admission: who made it, for which generation
 * (the current one unless given), and when.
 */
export function decideGate(
  h: EngineHarness,
  gate: string,
  decision: 'Approved' | 'Rejected',
  { generation = h.runbook.metadata.generation, user = 'alice', groups = [] as string[], comment = '' } = {},
): void {
  h.decisions.push({
    name: `${gate}-${h.decisions.length}`,
    gate,
    decision,
    user,
    groups,
    ...(comment ? { comment } : {}),
    generation,
    time: timestamp(h.now),
  });
}
