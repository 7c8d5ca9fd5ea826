/**
 * The operator's Prometheus metrics, under controller-runtime's and client-go's names and labels,
 * so dashboards and alerts written for kubebuilder operators work unchanged. Each operator has
 * its own registry (tests run several in one process).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { RunbookMetrics } from './runbook-metrics.js';
import type { StatusV2 } from '../api/v2/runbook.js';
import { finishedIn, RunMetrics, type RunbookRecord, type RunView } from './run-metrics.js';
import { SeriesBudget } from './series-budget.js';

/** The controller label, as controller-runtime names a controller after its kind. */
export const CONTROLLER = 'agentrunbook';
/** The work queue's name label. */
export const QUEUE = 'agentrunbook';

/** controller-runtime's reconcile-time buckets (seconds). */
const RECONCILE_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5,
  1.75, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];
/**
 * How often nodejs_eventloop_lag_* sample the event loop. prom-client's default, 10 ms, wakes an
 * idle operator 100 times a second: 6.7 ms of CPU a second, about 2 ms per stage of a run at
 * kube-controller-manager's defaults. At 100 ms a stall of 50 ms is still seen one time in two.
 */
const EVENT_LOOP_SAMPLE_MS = 100;

/** client-go's work-queue buckets: 1 ns to 10 s, by tens. */
const QUEUE_BUCKETS = Array.from({ length: 10 }, (_, i) => 1e-8 * 10 ** i);

export type ReconcileResult = 'success' | 'error' | 'requeue' | 'requeue_after';

/** What the work queue tells about itself when scraped. */
export interface QueueStats {
  depth: number;
  /** Seconds each key being processed has been at it. */
  processingSeconds: number[];
}

export class OperatorMetrics {
  readonly registry = new Registry();
  private readonly reconcileTotal: Counter<'controller' | 'result'>;
  private readonly reconcileErrors: Counter<'controller'>;
  private readonly reconcileTime: Histogram<'controller'>;
  readonly activeWorkers: Gauge<'controller'>;
  readonly maxConcurrentReconciles: Gauge<'controller'>;
  readonly queueDepth: Gauge<'name' | 'controller'>;
  private readonly queueAdds: Counter<'name' | 'controller'>;
  private readonly queueRetries: Counter<'name' | 'controller'>;
  private readonly queueDuration: Histogram<'name' | 'controller'>;
  private readonly workDuration: Histogram<'name' | 'controller'>;
  readonly unfinishedWork: Gauge<'name' | 'controller'>;
  readonly longestRunning: Gauge<'name' | 'controller'>;
  private readonly restRequests: Counter<'code' | 'method' | 'host'>;
  readonly leaderStatus: Gauge<'name'>;
  private readonly webhookRequests: Counter<'webhook' | 'code'>;
  private readonly webhookLatency: Histogram<'webhook'>;
  private readonly webhookOutcomes: Counter<'webhook' | 'outcome'>;
  private readonly notices: Counter<'receiver' | 'event' | 'result'>;
  /** Read when scraped; set by the controller that owns the queue. */
  queueStats: () => QueueStats = () => ({ depth: 0, processingSeconds: [] });
  /** Read when scraped; set by the controller that owns the caches. */
  runView: RunView = { runbooks: () => [], breakers: () => [] };
  private readonly seriesBudget = new SeriesBudget();
  /** The product's metrics: runs, stages, spending, gates, breakers. */
  readonly runs: RunMetrics;
  /** What runbooks declare in spec.monitoring.metrics. */
  readonly declared: RunbookMetrics;

  constructor() {
    const registers = [this.registry];
    const queue = ['name', 'controller'] as const;
    this.reconcileTotal = new Counter({
      name: 'controller_runtime_reconcile_total',
      help: 'Total number of reconciliations per controller',
      labelNames: ['controller', 'result'],
      registers,
    });
    this.reconcileErrors = new Counter({
      name: 'controller_runtime_reconcile_errors_total',
      help: 'Total number of reconciliation errors per controller',
      labelNames: ['controller'],
      registers,
    });
    this.reconcileTime = new Histogram({
      name: 'controller_runtime_reconcile_time_seconds',
      help: 'Length of time per reconciliation per controller',
      labelNames: ['controller'],
      buckets: RECONCILE_BUCKETS,
      registers,
    });
    this.activeWorkers = new Gauge({
      name: 'controller_runtime_active_workers',
      help: 'Number of currently used workers per controller',
      labelNames: ['controller'],
      registers,
    });
    this.maxConcurrentReconciles = new Gauge({
      name: 'controller_runtime_max_concurrent_reconciles',
      help: 'Maximum number of concurrent reconciles per controller',
      labelNames: ['controller'],
      registers,
    });
    const labels = { name: QUEUE, controller: CONTROLLER };
    const stats = () => this.queueStats();
    this.queueDepth = new Gauge({
      name: 'workqueue_depth',
      help: 'Current depth of workqueue',
      labelNames: queue,
      registers,
      collect() {
        this.set(labels, stats().depth);
      },
    });
    this.queueAdds = new Counter({
      name: 'workqueue_adds_total',
      help: 'Total number of adds handled by workqueue',
      labelNames: queue,
      registers,
    });
    this.queueRetries = new Counter({
      name: 'workqueue_retries_total',
      help: 'Total number of retries handled by workqueue',
      labelNames: queue,
      registers,
    });
    this.queueDuration = new Histogram({
      name: 'workqueue_queue_duration_seconds',
      help: 'How long in seconds an item stays in workqueue before being requested',
      labelNames: queue,
      buckets: QUEUE_BUCKETS,
      registers,
    });
    this.workDuration = new Histogram({
      name: 'workqueue_work_duration_seconds',
      help: 'How long in seconds processing an item from workqueue takes',
      labelNames: queue,
      buckets: QUEUE_BUCKETS,
      registers,
    });
    this.unfinishedWork = new Gauge({
      name: 'workqueue_unfinished_work_seconds',
      help: "How many seconds of work has been done that is in progress and hasn't been observed by work_duration",
      labelNames: queue,
      registers,
      collect() {
        this.set(
          labels,
          stats().processingSeconds.reduce((sum, seconds) => sum + seconds, 0),
        );
      },
    });
    this.longestRunning = new Gauge({
      name: 'workqueue_longest_running_processor_seconds',
      help: 'How many seconds has the longest running processor for workqueue been running',
      labelNames: queue,
      registers,
      collect() {
        this.set(labels, Math.max(0, ...stats().processingSeconds));
      },
    });
    this.restRequests = new Counter({
      name: 'rest_client_requests_total',
      help: 'Number of HTTP requests, partitioned by status code, method, and host',
      labelNames: ['code', 'method', 'host'],
      registers,
    });
    this.leaderStatus = new Gauge({
      name: 'leader_election_master_status',
      help: 'Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master',
      labelNames: ['name'],
      registers,
    });
    this.webhookRequests = new Counter({
      name: 'controller_runtime_webhook_requests_total',
      help: 'Total number of admission requests by HTTP status code.',
      labelNames: ['webhook', 'code'],
      registers,
    });
    this.webhookLatency = new Histogram({
      name: 'controller_runtime_webhook_latency_seconds',
      help: 'Histogram of the latency of processing admission requests',
      labelNames: ['webhook'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.webhookOutcomes = new Counter({
      name: 'agentrunbook_webhook_reviews_total',
      help: 'Webhook requests by outcome: allowed, denied, converted, failed (a conversion), error (no review answered)',
      labelNames: ['webhook', 'outcome'],
      registers,
    });
    this.notices = new Counter({
      name: 'agentrunbook_notices_total',
      help: 'Notices to people by receiver (the configuration names them), event and result: sent, failed (after retries) or dropped (queue full)',
      labelNames: ['receiver', 'event', 'result'],
      registers,
    });
    this.runs = new RunMetrics(this.registry, () => this.runView, this.seriesBudget);
    this.declared = new RunbookMetrics(this.registry, () => this.runView.runbooks(), this.seriesBudget);
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  }

  /** What a status the controller has just written says happened. */
  statusWritten(runbook: RunbookRecord, before: StatusV2 | undefined, after: StatusV2): void {
    const finished = finishedIn(before, after);
    this.runs.statusWritten(runbook, before, after, finished);
    this.declared.observeFinished(runbook, finished);
  }

  /** A notice delivery ended. */
  noticeDelivered(receiver: string, event: string, result: string): void {
    this.notices.inc({ receiver, event, result });
  }

  /** A deleted runbook's series go with it. */
  forgetRunbook(uid: string): void {
    this.runs.forget(uid);
    this.declared.forget(uid);
    this.seriesBudget.forget(uid);
  }

  /** One request the webhook server answered. */
  webhookServed(webhook: string, code: number, outcome: string, seconds: number): void {
    this.webhookRequests.inc({ webhook, code: String(code) });
    this.webhookLatency.observe({ webhook }, seconds);
    this.webhookOutcomes.inc({ webhook, outcome });
  }

  reconciled(result: ReconcileResult, seconds: number): void {
    this.reconcileTotal.inc({ controller: CONTROLLER, result });
    if (result === 'error') this.reconcileErrors.inc({ controller: CONTROLLER });
    this.reconcileTime.observe({ controller: CONTROLLER }, seconds);
  }

  /** The work queue's events, as client-go's queue metrics provider counts them. */
  readonly queue = {
    added: () => {
      this.queueAdds.inc({ name: QUEUE, controller: CONTROLLER });
    },
    retried: () => {
      this.queueRetries.inc({ name: QUEUE, controller: CONTROLLER });
    },
    taken: (waitedSeconds: number) => {
      this.queueDuration.observe({ name: QUEUE, controller: CONTROLLER }, waitedSeconds);
    },
    worked: (seconds: number) => {
      this.workDuration.observe({ name: QUEUE, controller: CONTROLLER }, seconds);
    },
  };

  /** One answer of the API server (code 0 when no answer came). */
  request(method: string, code: number, host: string): void {
    this.restRequests.inc({ method, code: code ? String(code) : '<error>', host });
  }
}
