/**
 * The product's metrics: runs, stages, attempts, spending, budgets, gates and circuit breakers.
 * Counters and histograms move when the controller writes a status that shows something happened
 * (statusWritten); gauges are read from the informer cache when scraped, so they cannot drift and a
 * deleted runbook's series go with it. Labels are bounded: phases, workflows and error classes are
 * enums, namespaces are the cluster's, and runbook and agent names are capped (SeriesBudget,
 * BREAKER_SERIES_LIMIT).
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { BREAKER_SERIES_LIMIT } from '../api/limits.js';
import { moneyMicros } from '../api/grammar.js';
import { DEFAULT_DURATION_BUCKETS } from '../api/v2/monitoring.js';
import type { SpecV2, StageStatusV2, StatusV2 } from '../api/v2/runbook.js';
import { effectiveSpec, runSpec } from '../engine/spec/effective.js';
import { parseItemName } from '../engine/spec/for-each.js';
import { attemptsOf } from '../engine/run/execution-metrics.js';
import { TERMINAL_RUN } from '../engine/run/summary.js';
import type { SeriesBudget } from './series-budget.js';
import { CacheMetrics } from './cache-metrics.js';

/** What metrics read of an AgentRunbook. */
export interface RunbookRecord {
  metadata: { name: string; namespace: string; uid: string };
  spec: SpecV2;
  status?: StatusV2;
}

/** What the scrape-time gauges read: the cached runbooks and the breakers of the agents in use. */
export interface RunView {
  runbooks(): Iterable<RunbookRecord>;
  breakers(): Iterable<{ agent: string; state: 'closed' | 'open' | 'half-open' }>;
}

const BREAKER_STATES = ['closed', 'open', 'half-open'] as const;
const TERMINAL_STAGE = new Set(['Succeeded', 'Failed']);

type RunbookLabels = 'namespace' | 'runbook_name' | 'version' | 'environment';

export function runbookIdentity(runbook: RunbookRecord): Record<RunbookLabels, string> {
  return {
    namespace: runbook.metadata.namespace,
    runbook_name: runbook.metadata.name,
    version: runbook.spec.version,
    environment: runSpec(runbook).environment ?? '',
  };
}

const seconds = (from: string | undefined, to: string | undefined) =>
  (Date.parse(to ?? '') - Date.parse(from ?? '')) / 1000;

/** What a written status finished that the one it replaced had not: stages, and the run. */
export interface Finished {
  /** Stages that reached Succeeded or Failed, with how long they took when that is known. */
  stages: { stage: StageStatusV2; seconds?: number }[];
  run?: { phase: string; seconds?: number };
}

const known = (value: number) => (value >= 0 ? { seconds: value } : {});

export function finishedIn(before: StatusV2 | undefined, after: StatusV2): Finished {
  const previous = before?.execution === after.execution ? before : undefined;
  const was = new Map((previous?.stages ?? []).map((stage) => [stage.name, stage.phase]));
  const stages = (after.stages ?? [])
    .filter((stage) => TERMINAL_STAGE.has(stage.phase) && !TERMINAL_STAGE.has(was.get(stage.name) ?? ''))
    .map((stage) => ({ stage, ...known(seconds(stage.startTime, stage.completionTime)) }));
  const phase = after.phase ?? '';
  const ended = TERMINAL_RUN.has(phase) && !TERMINAL_RUN.has(previous?.phase ?? '');
  return {
    stages,
    ...(ended ? { run: { phase, ...known(seconds(after.startTime, after.completionTime)) } } : {}),
  };
}

export class RunMetrics {
  private readonly runsFinished: Counter<'namespace' | 'phase'>;
  private readonly runDuration: Histogram<'phase'>;
  private readonly executionDuration: Histogram<RunbookLabels>;
  private readonly stageDuration: Histogram<'workflow' | 'phase'>;
  private readonly attempts: Counter<'result' | 'error_class'>;
  private readonly tokens: Counter<'namespace'>;
  private readonly dollars: Counter<'namespace'>;
  /** Namespaces whose counters exist: from their first runbook on, at 0, so increase() sees the first run. */
  private readonly namespaces = new Set<string>();
  /** The execution_duration labels each runbook (by UID) has series under. */
  private readonly executionLabels = new Map<string, Record<RunbookLabels, string>>();
  private readonly cache: CacheMetrics;

  constructor(
    registry: Registry,
    private readonly view: () => RunView,
    private readonly budget: SeriesBudget,
  ) {
    const registers = [registry];
    this.cache = new CacheMetrics(registry);
    const runbooks = () => this.view().runbooks();
    const seen = (namespace: string) => {
      this.seen(namespace);
    };
    this.runsFinished = new Counter({
      name: 'agentrunbook_runs_finished_total',
      help: 'Runs that finished, by namespace and final phase',
      labelNames: ['namespace', 'phase'],
      registers,
    });
    this.runDuration = new Histogram({
      name: 'agentrunbook_run_duration_seconds',
      help: 'Seconds from the start of a run to its end, by final phase',
      labelNames: ['phase'],
      buckets: DEFAULT_DURATION_BUCKETS,
      registers,
    });
    this.executionDuration = new Histogram({
      name: 'agentrunbook_execution_duration_seconds',
      help: "The specification's execution_duration: seconds each run of a runbook took, observed when it finished",
      labelNames: ['namespace', 'runbook_name', 'version', 'environment'],
      buckets: DEFAULT_DURATION_BUCKETS,
      registers,
    });
    this.stageDuration = new Histogram({
      name: 'agentrunbook_stage_duration_seconds',
      help: 'Seconds from the first start of a stage to its end, by workflow and final phase',
      labelNames: ['workflow', 'phase'],
      buckets: DEFAULT_DURATION_BUCKETS,
      registers,
    });
    this.attempts = new Counter({
      name: 'agentrunbook_stage_attempts_total',
      help: 'Stage attempts that finished, by result (succeeded, failed) and error class',
      labelNames: ['result', 'error_class'],
      registers,
    });
    this.tokens = new Counter({
      name: 'agentrunbook_tokens_total',
      help: 'Tokens the agents reported, by namespace',
      labelNames: ['namespace'],
      registers,
    });
    this.dollars = new Counter({
      name: 'agentrunbook_cost_dollars_total',
      help: 'Dollars the agents reported, by namespace',
      labelNames: ['namespace'],
      registers,
    });
    new Gauge({
      name: 'agentrunbook_runs',
      help: 'Runbooks by namespace and the phase of their current run',
      labelNames: ['namespace', 'phase'],
      registers,
      collect() {
        this.reset();
        for (const runbook of runbooks()) {
          const phase = runbook.status?.phase ?? 'Pending';
          const namespace = runbook.metadata.namespace;
          seen(namespace);
          this.inc({ namespace, phase });
        }
      },
    });
    new Gauge({
      name: 'agentrunbook_gates_waiting',
      help: 'Quality gates waiting for a decision, by namespace',
      labelNames: ['namespace'],
      registers,
      collect() {
        this.reset();
        for (const runbook of runbooks()) {
          if (TERMINAL_RUN.has(runbook.status?.phase ?? '')) continue;
          const waiting = (runbook.status?.gates ?? []).filter((gate) => gate.phase === 'Pending').length;
          if (waiting) this.inc({ namespace: runbook.metadata.namespace }, waiting);
        }
      },
    });
    const seriesBudget = this.budget;
    new Gauge({
      name: 'agentrunbook_budget_utilization_ratio',
      help: 'Share of its token or cost budget a running run has spent (1 is all of it), by resource (tokens, cost)',
      labelNames: ['namespace', 'runbook_name', 'resource'],
      registers,
      collect() {
        this.reset();
        for (const runbook of runbooks()) {
          const status = runbook.status;
          if (!status || TERMINAL_RUN.has(status.phase ?? '') || !seriesBudget.admit(runbook.metadata.uid))
            continue;
          const limits = effectiveSpec(runSpec(runbook)).budgets;
          const labels = {
            namespace: runbook.metadata.namespace,
            runbook_name: runbook.metadata.name,
          };
          const tokens = limits?.tokens?.total;
          if (tokens) this.set({ ...labels, resource: 'tokens' }, (status.usage?.tokens ?? 0) / tokens);
          const cost = moneyMicros(limits?.cost?.maxUSD ?? '0');
          if (cost)
            this.set({ ...labels, resource: 'cost' }, moneyMicros(status.usage?.costUSD ?? '0') / cost);
        }
      },
    });
    const breakers = () => this.view().breakers();
    new Gauge({
      name: 'agentrunbook_circuit_breaker_state',
      help: `Circuit breaker of each agent in use: 1 for its current state (closed, open, half-open); at most ${BREAKER_SERIES_LIMIT} agents, open ones first`,
      labelNames: ['agent', 'state'],
      registers,
      collect() {
        this.reset();
        const all = [...breakers()].sort(
          (a, b) => Number(a.state === 'closed') - Number(b.state === 'closed'),
        );
        for (const { agent, state } of all.slice(0, BREAKER_SERIES_LIMIT)) {
          for (const each of BREAKER_STATES) this.set({ agent, state: each }, each === state ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: 'agentrunbook_runbooks_over_series_limit',
      help: 'Runbooks without series of their own because the operator already exports series for as many runbooks as it may',
      registers,
      collect() {
        this.set(seriesBudget.overLimit);
      },
    });
  }

  /** A forEach stage's failed item attempts, by class, since the status before. */
  private countItemFailures(stage: StageStatusV2, was: StageStatusV2 | undefined): void {
    const before = was?.items?.failedAttempts ?? {};
    for (const [errorClass, count] of Object.entries(stage.items?.failedAttempts ?? {})) {
      const added = count - (Object.hasOwn(before, errorClass) ? (before[errorClass] ?? 0) : 0);
      if (added > 0) this.attempts.inc({ result: 'failed', error_class: errorClass }, added);
    }
  }

  private seen(namespace: string): void {
    if (this.namespaces.has(namespace)) return;
    this.namespaces.add(namespace);
    for (const phase of TERMINAL_RUN) this.runsFinished.inc({ namespace, phase }, 0);
    this.tokens.inc({ namespace }, 0);
    this.dollars.inc({ namespace }, 0);
    this.cache.seen(namespace);
  }

  /** What a status the controller has just written says happened since the one it replaced. */
  statusWritten(
    runbook: RunbookRecord,
    before: StatusV2 | undefined,
    after: StatusV2,
    finished: Finished,
  ): void {
    const namespace = runbook.metadata.namespace;
    this.seen(namespace);
    const previous = before?.execution === after.execution ? before : undefined;
    const previousStages = new Map((previous?.stages ?? []).map((stage) => [stage.name, stage]));
    for (const stage of after.stages ?? []) {
      // An item's attempts count through its forEach stage (items.attempts) once it is folded in.
      if (parseItemName(stage.name)) continue;
      const was = previousStages.get(stage.name);
      const now = attemptsOf(stage);
      const then = was ? attemptsOf(was) : { started: 0, succeeded: 0, failed: 0 };
      const succeeded = now.succeeded - then.succeeded;
      const failed = now.failed - then.failed;
      if (succeeded > 0) this.attempts.inc({ result: 'succeeded', error_class: '' }, succeeded);
      if (stage.items) this.countItemFailures(stage, was);
      else if (failed > 0)
        this.attempts.inc({ result: 'failed', error_class: stage.lastError ?? 'UNKNOWN' }, failed);
    }
    for (const { stage, seconds: took } of finished.stages) {
      if (took !== undefined)
        this.stageDuration.observe({ workflow: stage.workflow ?? 'main', phase: stage.phase }, took);
    }
    const tokens = (after.usage?.tokens ?? 0) - (previous?.usage?.tokens ?? 0);
    if (tokens > 0) this.tokens.inc({ namespace }, tokens);
    const micros = moneyMicros(after.usage?.costUSD ?? '0') - moneyMicros(previous?.usage?.costUSD ?? '0');
    if (micros > 0) this.dollars.inc({ namespace }, micros / 1e6);
    this.cache.statusWritten(namespace, previous, after);

    if (!finished.run) return;
    const { phase, seconds: took } = finished.run;
    this.runsFinished.inc({ namespace, phase });
    if (took === undefined) return;
    this.runDuration.observe({ phase }, took);
    const uid = runbook.metadata.uid;
    if (!this.budget.admit(uid)) return;
    const labels = runbookIdentity(runbook);
    const old = this.executionLabels.get(uid);
    if (old && JSON.stringify(old) !== JSON.stringify(labels)) this.executionDuration.remove(old);
    this.executionLabels.set(uid, labels);
    this.executionDuration.observe(labels, took);
  }

  /** A deleted runbook's series go with it. */
  forget(uid: string): void {
    const labels = this.executionLabels.get(uid);
    if (labels) this.executionDuration.remove(labels);
    this.executionLabels.delete(uid);
  }
}
