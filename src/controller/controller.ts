/**
 * The AgentRunbook controller: informers for runbooks, their Jobs and Pods, a work queue of
 * runbook keys, and the workers that reconcile them. Caches can run without workers, so a replica
 * that is not the leader keeps them warm and takes over at once.
 */
import { randomUUID } from 'node:crypto';
import type { AgentCatalog } from '../api/catalog.js';
import type { Logger } from '../observability/logger.js';
import { CONTROLLER, type OperatorMetrics } from '../observability/metrics.js';
import { KubeHttp, isStatus } from '../kube/http.js';
import { objectKey, type SharedInformer, type InformerOptions } from '../kube/informer.js';
import type {
  CachedAgent,
  CachedDecision,
  CachedGatePolicy,
  CachedRunbook,
  CachedJob,
  CachedPod,
  CachedResultEntry,
  CachedTemplate,
} from '../kube/types.js';
import { AgentDirectory } from './agent-directory.js';
import { AgentStatusWriter } from './agent-status.js';
import { EgressPolicies } from './network-policy.js';
import { WorkQueue } from '../kube/work-queue.js';
import { jobAppeared, jobChanged, podChanged, runbookChanged } from './change-filters.js';
import { EventRecorder } from './event-recorder.js';
import { GateDirectory } from './gate-directory.js';
import { JobCache } from './job-cache.js';
import { JobExpectations } from './job-expectations.js';
import { controllerInformers } from './informers.js';
import { ownerKey, Watches } from './watches.js';
import { Notifier } from './notifier.js';
import { NoticeSender } from './notice-sender.js';
import { Reconciler } from './reconciler.js';
import { SpecRevisions } from './revisions.js';
import { RunSlots } from './run-slots.js';
import { holdsSlot } from '../engine/run/concurrency.js';
import { templateToResolve } from '../engine/run/template-outcome.js';
import { ReportLogs } from './report-logs.js';
import { ResultCache } from './result-cache.js';
import { CacheJanitor } from './cache-janitor.js';
import { TemplateResolver } from './template-resolver.js';
import { ChildRunbooks } from './child-runbooks.js';

export interface ControllerOptions {
  http: KubeHttp;
  catalog: () => AgentCatalog;
  log: Logger;
  /** Watch these namespaces only; all namespaces when absent. */
  namespaces?: readonly string[];
  informer?: InformerOptions;
  /** Longest the engine may take for one runbook before it is parked. */
  reconcileBudgetMs?: number;
  /** The most a stage's outputs may hold as JSON (MAX_OUTPUT_BYTES by default). */
  maxOutputBytes?: number;
  metrics?: OperatorMetrics;
}

/**
 * One worker in this many (2 of the default 16) may reconcile runbooks of low priority, those not
 * yet started and those listed at start: a burst of new runbooks starts a few at a time, and the
 * runs in progress do not wait behind its requests at the API server.
 */
const WORKERS_PER_LOW_PRIORITY = 8;

export class RunbookController {
  readonly queue = new WorkQueue();
  readonly runbooks: SharedInformer<CachedRunbook>;
  readonly jobs: SharedInformer<CachedJob>;
  readonly pods: SharedInformer<CachedPod>;
  readonly templates: SharedInformer<CachedTemplate>;
  readonly clusterTemplates: SharedInformer<CachedTemplate>;
  readonly agents: SharedInformer<CachedAgent>;
  readonly clusterAgents: SharedInformer<CachedAgent>;
  readonly decisions: SharedInformer<CachedDecision>;
  readonly gatePolicies: SharedInformer<CachedGatePolicy>;
  readonly clusterGatePolicies: SharedInformer<CachedGatePolicy>;
  readonly cachedResults: SharedInformer<CachedResultEntry>;
  readonly results: ResultCache;
  private readonly janitor: CacheJanitor;
  private readonly agentStatus: AgentStatusWriter;
  readonly cache: JobCache;
  /** Jobs the reconciler created that the Job informer has not shown yet. */
  private readonly expectations = new JobExpectations();
  readonly reconciler: Reconciler;
  readonly notifier: Notifier;
  readonly notices: NoticeSender;
  readonly recorder: EventRecorder;
  private workers: Promise<void>[] = [];
  private get informers() {
    return [
      this.runbooks,
      this.jobs,
      this.pods,
      this.templates,
      this.clusterTemplates,
      this.agents,
      this.clusterAgents,
      this.decisions,
      this.gatePolicies,
      this.clusterGatePolicies,
      this.cachedResults,
    ];
  }
  private readonly log: Logger;
  private readonly metrics: OperatorMetrics | undefined;

  constructor(options: ControllerOptions) {
    const { http, namespaces, log, metrics } = options;
    this.log = log;
    this.metrics = metrics;
    const informers = controllerInformers(http, namespaces, {
      log: (message) => log.info(message),
      ...options.informer,
    });
    ({
      runbooks: this.runbooks,
      jobs: this.jobs,
      pods: this.pods,
      templates: this.templates,
      clusterTemplates: this.clusterTemplates,
      agents: this.agents,
      clusterAgents: this.clusterAgents,
      decisions: this.decisions,
      gatePolicies: this.gatePolicies,
      clusterGatePolicies: this.clusterGatePolicies,
      cachedResults: this.cachedResults,
    } = informers);
    const directory = new AgentDirectory(this.agents, this.clusterAgents, options.catalog);
    const egressPolicies = new EgressPolicies(http);
    this.notifier = new Notifier(options.catalog, log);
    this.notices = new NoticeSender(options.catalog, log, {
      ...(metrics ? { counted: metrics.noticeDelivered.bind(metrics) } : {}),
    });
    this.recorder = new EventRecorder(http, log);
    this.cache = new JobCache(this.jobs, this.pods);
    this.results = new ResultCache(this.cachedResults, this.pods);
    this.janitor = new CacheJanitor({
      http,
      results: this.cachedResults,
      limits: () => options.catalog().resultCache,
      log,
    });
    this.agentStatus = new AgentStatusWriter({
      http,
      agents: this.agents,
      clusterAgents: this.clusterAgents,
      runbooks: this.runbooks,
      cache: this.cache,
      catalog: options.catalog,
      egressPolicies,
      namespaces,
      log,
    });
    this.reconciler = new Reconciler({
      http,
      runbooks: this.runbooks,
      cache: this.cache,
      catalog: (namespace) => directory.catalogFor(namespace),
      egressPolicies,
      recorder: this.recorder,
      notifier: this.notifier,
      notices: this.notices,
      log,
      templates: new TemplateResolver(this.templates, this.clusterTemplates),
      gates: new GateDirectory(this.decisions, this.gatePolicies, this.clusterGatePolicies),
      revisions: new SpecRevisions(http),
      reportLogs: new ReportLogs(http),
      results: this.results,
      children: new ChildRunbooks(this.runbooks),
      slots: new RunSlots(this.runbooks, () => options.catalog().concurrency ?? {}),
      ...(options.reconcileBudgetMs === undefined ? {} : { reconcileBudgetMs: options.reconcileBudgetMs }),
      ...(options.maxOutputBytes === undefined ? {} : { maxOutputBytes: options.maxOutputBytes }),
      ...(metrics ? { statusWritten: metrics.statusWritten.bind(metrics) } : {}),
      expectations: this.expectations,
    });
    if (metrics) this.observe(metrics, options.catalog);
    this.watch();
  }

  /** What enqueues a runbook: every watch, in one place. */
  private watch(): void {
    const runbooksWhere = (select: (runbook: CachedRunbook) => boolean) =>
      [...this.runbooks.values()].filter(select).map((runbook) => objectKey(runbook));
    // A template that appears or changes may let a runbook waiting for one resolve.
    const waitingFor = (template: CachedTemplate) =>
      runbooksWhere(
        (runbook) =>
          (!template.metadata.namespace || runbook.metadata.namespace === template.metadata.namespace) &&
          templateToResolve(runbook),
      );
    // A gate policy adds gates to the runbooks of its namespace, or of every namespace.
    const inScope = (policy: CachedGatePolicy) =>
      runbooksWhere(
        (runbook) => !policy.metadata.namespace || runbook.metadata.namespace === policy.metadata.namespace,
      );
    // A run that ends, or a runbook that goes, may make room for those waiting for a slot.
    const queued = () => runbooksWhere((runbook) => runbook.status?.phase === 'Queued');
    new Watches(this.queue)
      .for(this.runbooks, { update: runbookChanged })
      // A child runbook that ends (or goes) moves its parent's stage; one just created does not.
      .owns(this.runbooks, {
        add: () => false,
        update: (child, old) => child.status?.phase !== old.status?.phase,
      })
      .owns(this.jobs, {
        add: (job) =>
          jobAppeared(
            this.cache.observe(job),
            this.runbooks.get(ownerKey(job)[0] ?? ''),
            this.expectations.shown(objectKey(job)),
          ),
        update: (job, old) => jobChanged(job, old, () => this.cache.jobViewChanged(job, old)),
      })
      .watches(
        this.pods,
        (pod) => {
          const job = this.cache.jobOf(pod);
          return job ? ownerKey(job) : [];
        },
        {
          // A new Pod is worth a reconcile only when it already says more than that it exists.
          add: (pod) => this.cache.podViewChanged(pod),
          update: (pod, old) => podChanged(pod, old, () => this.cache.podViewChanged(pod, old)),
        },
      )
      .watches(this.templates, waitingFor)
      .watches(this.clusterTemplates, waitingFor)
      .watches(this.decisions, (decision) => [`${decision.metadata.namespace}/${decision.spec.runbook}`])
      .watches(this.gatePolicies, inScope)
      .watches(this.clusterGatePolicies, inScope)
      .watches(this.runbooks, queued, {
        add: () => false,
        update: (runbook, old) => holdsSlot(old.status) && !holdsSlot(runbook.status),
        delete: (runbook) => holdsSlot(runbook.status) || runbook.status?.phase === 'Queued',
      });
  }

  /** The metrics that read the controller's queue, runbooks and breakers. */
  private observe(metrics: OperatorMetrics, catalog: () => AgentCatalog): void {
    this.queue.observer = metrics.queue;
    metrics.queueStats = () => ({
      depth: this.queue.length,
      processingSeconds: this.queue.processingSeconds(),
    });
    metrics.runView = {
      runbooks: () => this.runbooks.values(),
      breakers: () => this.cache.breakers(catalog(), Date.now()),
    };
    this.runbooks.on({
      delete: (runbook) => {
        metrics.forgetRunbook(runbook.metadata.uid);
      },
    });
  }

  /** Starts the informers; resolves when their caches are filled. */
  async startCaches(): Promise<void> {
    await Promise.all(this.informers.map((informer) => informer.start()));
  }

  get cachesSynced(): boolean {
    return this.informers.every((informer) => informer.hasSynced);
  }

  startWorkers(count: number): void {
    this.metrics?.maxConcurrentReconciles.set({ controller: CONTROLLER }, count);
    this.queue.lowPriorityLimit = Math.max(1, Math.floor(count / WORKERS_PER_LOW_PRIORITY));
    this.workers = Array.from({ length: count }, () => this.work());
    this.agentStatus.start();
    this.janitor.start();
  }

  private async work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      const started = performance.now();
      const seconds = () => (performance.now() - started) / 1000;
      const reconcileID = randomUUID();
      this.metrics?.activeWorkers.inc({ controller: CONTROLLER });
      try {
        const result = await this.reconciler.reconcile(key, reconcileID);
        this.queue.forget(key);
        if (result.requeueAfterMs !== undefined) this.queue.addAfter(key, result.requeueAfterMs);
        this.metrics?.reconciled(
          result.requeueAfterMs === undefined ? 'success' : 'requeue_after',
          seconds(),
        );
      } catch (error) {
        this.metrics?.reconciled('error', seconds());
        const conflict = isStatus(error, 409);
        this.log[conflict ? 'debug' : 'error']('reconcile failed; retrying', {
          runbook: key,
          reconcileID,
          error: (error as Error).message,
        });
        this.queue.addRateLimited(key);
      } finally {
        this.metrics?.activeWorkers.dec({ controller: CONTROLLER });
        this.queue.done(key);
      }
    }
  }

  /** Stops taking work and waits for in-flight reconciles and (briefly) notifications. */
  async stopWorkers(): Promise<void> {
    this.queue.shutDown();
    await Promise.all([...this.workers, this.agentStatus.stop(), this.janitor.stop()]);
    // Give notifications and Events under way a little time; they never hold the stop for long.
    await Promise.race([
      Promise.all([this.notifier.settled(), this.notices.settled(), this.recorder.idle()]),
      new Promise((resolve) => setTimeout(resolve, 10_000).unref()),
    ]);
  }

  stopCaches(): void {
    for (const informer of this.informers) {
      informer.stop();
    }
  }
}
