/**
 * The metrics runbooks declare in spec.monitoring.metrics (Argo Workflows' custom metrics are the
 * model), exported as agentrunbook_runbook_<name>. Each family is one collector on the registry:
 * gauges and counters are read from the cached statuses when scraped (a counter is the run's
 * total, so it survives an operator restart); histograms are observed when a run or a stage
 * finishes, each runbook with its own buckets, and dropped with the runbook.
 */
import { Gauge, type Registry } from 'prom-client';
import { DECLARED_SERIES_LIMIT } from '../api/limits.js';
import {
  DEFAULT_DURATION_BUCKETS,
  IDENTITY_LABELS,
  RUNBOOK_METRIC_NAMES,
  RUNBOOK_METRIC_PREFIX,
  RUNBOOK_METRICS,
  type RunbookMetricName,
} from '../api/v2/monitoring.js';
import type { SpecV2, StageStatusV2, StatusV2 } from '../api/v2/runbook.js';
import { parseMicros } from '../api/grammar.js';
import { runSpec } from '../engine/spec/effective.js';
import { attemptsOf } from '../engine/run/execution-metrics.js';
import { runbookIdentity, type Finished, type RunbookRecord } from './run-metrics.js';
import type { SeriesBudget } from './series-budget.js';

type Labels = Record<string, string>;
type Declared = NonNullable<NonNullable<SpecV2['monitoring']>['metrics']>[number];

interface Sample {
  metricName?: string;
  labels: Labels;
  value: number;
}

interface HistogramSeries {
  labels: Labels;
  buckets: number[];
  counts: number[];
  sum: number;
  count: number;
}

/** The declared labels of a row, plus the identity ones: the series the row counts towards. */
function pick(row: Labels, declared: Declared): Labels {
  const names = new Set<string>([...IDENTITY_LABELS, ...(declared.labels ?? [])]);
  return Object.fromEntries(Object.entries(row).filter(([name]) => names.has(name)));
}

const keyOf = (labels: Labels) => JSON.stringify(Object.entries(labels).sort());

function agentOf(spec: SpecV2, stage: string): string {
  return (spec.agents.pipeline ?? []).find((entry) => entry.name === stage)?.agent ?? stage;
}

function stageRow(runbook: RunbookRecord, stage: StageStatusV2): Labels {
  return {
    ...runbookIdentity(runbook),
    stage_name: stage.name,
    agent_type: agentOf(runSpec(runbook), stage.name),
    workflow: stage.workflow ?? 'main',
  };
}

/** Rows of one gauge or counter for one runbook, before they are folded into declared series. */
function rowsOf(
  name: RunbookMetricName,
  runbook: RunbookRecord,
  status: StatusV2,
): { labels: Labels; value: number; of?: number }[] {
  const run = { ...runbookIdentity(runbook), execution_id: status.execution ?? '' };
  const metrics = status.metrics;
  if (!metrics) return [];
  switch (name) {
    case 'stage_success_rate':
      return (status.stages ?? []).map((stage) => {
        const attempts = attemptsOf(stage);
        return {
          labels: stageRow(runbook, stage),
          value: attempts.succeeded,
          of: attempts.succeeded + attempts.failed,
        };
      });
    case 'success_rate':
    case 'error_rate': {
      const totals = (status.stages ?? []).map(attemptsOf).reduce(
        (sum, attempts) => ({
          succeeded: sum.succeeded + attempts.succeeded,
          failed: sum.failed + attempts.failed,
        }),
        { succeeded: 0, failed: 0 },
      );
      const part = name === 'success_rate' ? totals.succeeded : totals.failed;
      return [{ labels: run, value: part, of: totals.succeeded + totals.failed }];
    }
    case 'retry_count':
      return [{ labels: run, value: metrics.retryCount }];
    case 'tokens_used':
      return [{ labels: run, value: metrics.tokensUsed }];
    case 'cost_accrued':
      return [{ labels: run, value: parseMicros(metrics.costAccrued) / 1e6 }];
    case 'resource_utilization':
      return [
        { labels: { ...run, resource_type: 'tokens' }, value: metrics.tokensUsed },
        { labels: { ...run, resource_type: 'cost_usd' }, value: parseMicros(metrics.costAccrued) / 1e6 },
        { labels: { ...run, resource_type: 'cpu_seconds' }, value: metrics.cpuSeconds ?? 0 },
      ];
    default:
      return [];
  }
}

export class RunbookMetrics {
  /** Histogram series by runbook UID, then by metric name and series key. */
  private readonly histograms = new Map<string, Map<string, Map<string, HistogramSeries>>>();
  /** Histogram series kept, by metric name, against DECLARED_SERIES_LIMIT. */
  private readonly histogramSeries = new Map<string, number>();
  /** Series of each metric not exported because of DECLARED_SERIES_LIMIT. */
  private readonly dropped = new Map<string, number>();

  constructor(
    registry: Registry,
    private readonly runbooks: () => Iterable<RunbookRecord>,
    private readonly budget: SeriesBudget,
  ) {
    for (const name of RUNBOOK_METRIC_NAMES) {
      const { type, help } = RUNBOOK_METRICS[name];
      const metric = {
        name: `${RUNBOOK_METRIC_PREFIX}${name}`,
        help,
        type,
        aggregator: 'sum' as const,
        get: () => ({
          name: metric.name,
          help,
          type,
          aggregator: 'sum' as const,
          values: this.samples(name),
        }),
        reset: () => undefined,
      };
      registry.registerMetric(metric as unknown as Parameters<Registry['registerMetric']>[0]);
    }
    const dropped = this.dropped;
    new Gauge({
      name: 'agentrunbook_declared_series_dropped',
      help: `Series of a metric runbooks declare that are not exported: each such metric has at most ${DECLARED_SERIES_LIMIT} series`,
      labelNames: ['metric'],
      registers: [registry],
      collect() {
        for (const [metric, count] of dropped)
          this.set({ metric: `${RUNBOOK_METRIC_PREFIX}${metric}` }, count);
      },
    });
  }

  private declared(runbook: RunbookRecord, name: RunbookMetricName): Declared | undefined {
    return runSpec(runbook).monitoring?.metrics?.find((metric) => metric.name === name);
  }

  private samples(name: RunbookMetricName): Sample[] {
    if (RUNBOOK_METRICS[name].type === 'histogram') return this.histogramSamples(name);
    const samples: Sample[] = [];
    for (const runbook of this.runbooks()) {
      const declared = this.declared(runbook, name);
      if (!declared || !runbook.status || !this.budget.admit(runbook.metadata.uid)) continue;
      const series = new Map<string, { labels: Labels; value: number; of: number; rate: boolean }>();
      for (const row of rowsOf(name, runbook, runbook.status)) {
        const labels = pick(row.labels, declared);
        const key = keyOf(labels);
        const sum = series.get(key) ?? { labels, value: 0, of: 0, rate: row.of !== undefined };
        sum.value += row.value;
        sum.of += row.of ?? 0;
        series.set(key, sum);
      }
      for (const { labels, value, of, rate } of series.values()) {
        if (rate && of === 0) continue;
        samples.push({ labels, value: rate ? value / of : value });
      }
    }
    this.dropped.set(name, Math.max(0, samples.length - DECLARED_SERIES_LIMIT));
    return samples.slice(0, DECLARED_SERIES_LIMIT);
  }

  private histogramSamples(name: RunbookMetricName): Sample[] {
    const metricName = `${RUNBOOK_METRIC_PREFIX}${name}`;
    const samples: Sample[] = [];
    for (const byName of this.histograms.values()) {
      for (const series of byName.get(name)?.values() ?? []) {
        let cumulative = 0;
        series.buckets.forEach((bound, index) => {
          cumulative += series.counts[index] ?? 0;
          samples.push({
            metricName: `${metricName}_bucket`,
            labels: { ...series.labels, le: String(bound) },
            value: cumulative,
          });
        });
        samples.push({
          metricName: `${metricName}_bucket`,
          labels: { ...series.labels, le: '+Inf' },
          value: series.count,
        });
        samples.push({ metricName: `${metricName}_sum`, labels: series.labels, value: series.sum });
        samples.push({ metricName: `${metricName}_count`, labels: series.labels, value: series.count });
      }
    }
    return samples;
  }

  private observe(runbook: RunbookRecord, name: RunbookMetricName, row: Labels, value: number): void {
    const declared = this.declared(runbook, name);
    const uid = runbook.metadata.uid;
    if (!declared || !(value >= 0) || !this.budget.admit(uid)) return;
    const labels = pick(row, declared);
    const buckets = declared.buckets?.length ? declared.buckets : DEFAULT_DURATION_BUCKETS;
    const byName = this.histograms.get(uid) ?? new Map<string, Map<string, HistogramSeries>>();
    this.histograms.set(uid, byName);
    const family = byName.get(name) ?? new Map<string, HistogramSeries>();
    byName.set(name, family);
    const key = keyOf(labels);
    let series = family.get(key);
    if (!series) {
      const kept = this.histogramSeries.get(name) ?? 0;
      if (kept >= DECLARED_SERIES_LIMIT) {
        this.dropped.set(name, (this.dropped.get(name) ?? 0) + 1);
        return;
      }
      this.histogramSeries.set(name, kept + 1);
    }
    if (!series || series.buckets.join() !== buckets.join()) {
      // Changed buckets start the series again: counts under other bounds do not carry over.
      series = { labels, buckets, counts: buckets.map(() => 0), sum: 0, count: 0 };
      family.set(key, series);
    }
    const index = buckets.findIndex((bound) => value <= bound);
    if (index >= 0) series.counts.splice(index, 1, (series.counts[index] ?? 0) + 1);
    series.sum += value;
    series.count += 1;
  }

  /** Observes the histograms of what a status the controller has just written finished. */
  observeFinished(runbook: RunbookRecord, finished: Finished): void {
    if (!runSpec(runbook).monitoring?.metrics?.length) return;
    for (const { stage, seconds } of finished.stages) {
      if (seconds === undefined) continue;
      this.observe(runbook, 'stage_duration', { ...stageRow(runbook, stage), phase: stage.phase }, seconds);
    }
    if (finished.run?.seconds !== undefined) {
      const { phase, seconds } = finished.run;
      this.observe(runbook, 'execution_duration', { ...runbookIdentity(runbook), phase }, seconds);
    }
  }

  forget(uid: string): void {
    for (const [name, family] of this.histograms.get(uid) ?? []) {
      this.histogramSeries.set(name, (this.histogramSeries.get(name) ?? 0) - family.size);
    }
    this.histograms.delete(uid);
  }
}
