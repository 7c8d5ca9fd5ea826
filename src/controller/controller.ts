/**
 * The AgentRunbook controller: informers for runbooks, their Jobs and Pods, a work queue of
 * runbook keys, and the workers that reconcile them. Caches can run without workers, so a replica
 * that is not the leader keeps them warm and takes over at once.
 */
import { randomUUID } from 'node:crypto';
import type { AgentCatalog } from '../api/catalog.js';
import { AGENT_KINDS, GROUP, PLURAL, STORAGE_VERSION, TEMPLATE_KINDS } from '../api/group.js';
import { LABEL_MANAGED_BY, MANAGED_BY } from '../api/labels.js';
import type { Logger } from '../observability/logger.js';
import { CONTROLLER, type OperatorMetrics } from '../observability/metrics.js';
import { KubeHttp, isStatus } from '../kube/http.js';
import { Informer, objectKey, type InformerOptions, type KubeObject } from '../kube/informer.js';
import { kubeSource } from '../kube/source.js';
import type { AgentJson, AgentRunbookJson, JobJson, PodJson, TemplateJson } from '../kube/types.js';
import { AgentDirectory } from './agent-directory.js';
import { AgentStatusWriter } from './agent-status.js';
import { EgressPolicies } from './network-policy.js';
import { WorkQueue } from '../kube/work-queue.js';
import { jobChanged, podChanged, runbookChanged } from './change-filters.js';
import { EventRecorder } from './event-recorder.js';
import { controllerOwner, JobCache } from './job-cache.js';
import { Notifier } from './notifier.js';
import { NoticeSender } from './notice-sender.js';
import { Reconciler } from './reconciler.js';
import { SpecRevisions } from './revisions.js';
import { RunSlots } from './run-slots.js';
import { holdsSlot } from '../engine/run/concurrency.js';
import { ReportLogs } from './report-logs.js';
import { TemplateResolver } from './template-resolver.js';

export interface ControllerOptions {
  http: KubeHttp;
  catalog: () => AgentCatalog;
  log: Logger;
  /** Watch one namespace only; all namespaces when absent. */
  namespace?: string;
  informer?: InformerOptions;
  /** Longest the engine may take for one runbook before it is parked. */
  reconcileBudgetMs?: number;
  /** The most a stage's outputs may hold as JSON (MAX_OUTPUT_BYTES by default). */
  maxOutputBytes?: number;
  metrics?: OperatorMetrics;
}

export class RunbookController {
  readonly queue = new WorkQueue();
  readonly runbooks: Informer<AgentRunbookJson>;
  readonly jobs: Informer<JobJson>;
  readonly pods: Informer<PodJson>;
  readonly templates: Informer<TemplateJson>;
  readonly clusterTemplates: Informer<TemplateJson>;
  readonly agents: Informer<AgentJson>;
  readonly clusterAgents: Informer<AgentJson>;
  private readonly agentStatus: AgentStatusWriter;
  readonly cache: JobCache;
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
    ];
  }
  private readonly log: Logger;
  private readonly metrics: OperatorMetrics | undefined;

  constructor(options: ControllerOptions) {
    const { http, namespace, log, metrics } = options;
    this.log = log;
    this.metrics = metrics;
    if (metrics) {
      this.queue.observer = metrics.queue;
      metrics.queueStats = () => ({
        depth: this.queue.length,
        processingSeconds: this.queue.processingSeconds(),
      });
    }
    const informerOptions: InformerOptions = { log: (message) => log.info(message), ...options.informer };
    const managed = `${LABEL_MANAGED_BY}=${MANAGED_BY}`;
    const scope = namespace ? { namespace } : {};
    this.runbooks = new Informer(
      'agentrunbooks',
      kubeSource(http, { prefix: `/apis/${GROUP}/${STORAGE_VERSION}`, plural: PLURAL, ...scope }),
      informerOptions,
    );
    this.jobs = new Informer(
      'jobs',
      kubeSource(http, {
        prefix: '/apis/batch/v1',
        plural: 'jobs',
        labelSelector: managed,
        ...scope,
      }),
      informerOptions,
    );
    this.pods = new Informer(
      'pods',
      kubeSource(http, { prefix: '/api/v1', plural: 'pods', labelSelector: managed, ...scope }),
      informerOptions,
    );
    /** An informer of one of our own kinds: in the watched namespace, or cluster-scoped. */
    const ownKind = <T extends KubeObject>(plural: string, clusterScoped: boolean) =>
      new Informer<T>(
        plural,
        kubeSource(http, {
          prefix: `/apis/${GROUP}/${STORAGE_VERSION}`,
          plural,
          ...(clusterScoped ? {} : scope),
        }),
        informerOptions,
      );
    this.templates = ownKind(TEMPLATE_KINDS.namespaced.plural, false);
    this.clusterTemplates = ownKind(TEMPLATE_KINDS.cluster.plural, true);
    this.agents = ownKind(AGENT_KINDS.namespaced.plural, false);
    this.clusterAgents = ownKind(AGENT_KINDS.cluster.plural, true);
    const directory = new AgentDirectory(this.agents, this.clusterAgents, options.catalog);
    const egressPolicies = new EgressPolicies(http);
    this.notifier = new Notifier(options.catalog, log);
    this.notices = new NoticeSender(options.catalog, log, {
      ...(metrics
        ? {
            counted: (receiver, event, result) => {
              metrics.noticeDelivered(receiver, event, result);
            },
          }
        : {}),
    });
    this.recorder = new EventRecorder(http, log);
    this.cache = new JobCache(this.jobs, this.pods);
    this.agentStatus = new AgentStatusWriter({
      http,
      agents: this.agents,
      clusterAgents: this.clusterAgents,
      runbooks: this.runbooks,
      cache: this.cache,
      catalog: options.catalog,
      egressPolicies,
      namespace,
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
      revisions: new SpecRevisions(http),
      reportLogs: new ReportLogs(http),
      slots: new RunSlots(this.runbooks, () => options.catalog().concurrency ?? {}),
      ...(options.reconcileBudgetMs === undefined ? {} : { reconcileBudgetMs: options.reconcileBudgetMs }),
      ...(options.maxOutputBytes === undefined ? {} : { maxOutputBytes: options.maxOutputBytes }),
      ...(metrics
        ? {
            statusWritten: (runbook, before, after) => {
              metrics.statusWritten(runbook, before, after);
            },
          }
        : {}),
    });
    if (metrics) {
      metrics.runView = {
        runbooks: () => this.runbooks.values(),
        breakers: () => this.cache.breakers(options.catalog(), Date.now()),
      };
    }
    const enqueueRunbook = (object: AgentRunbookJson) => {
      this.queue.add(objectKey(object));
    };
    // A run that ends, or a runbook that goes, may make room for those waiting for a slot.
    const enqueueQueued = () => {
      for (const runbook of this.runbooks.values())
        if (runbook.status?.phase === 'Queued') enqueueRunbook(runbook);
    };
    this.runbooks.on({
      add: enqueueRunbook,
      update: (object, old) => {
        if (runbookChanged(object, old)) enqueueRunbook(object);
        if (holdsSlot(old.status) && !holdsSlot(object.status)) enqueueQueued();
      },
      delete: (object) => {
        metrics?.forgetRunbook(object.metadata.uid ?? '');
        enqueueRunbook(object);
        if (holdsSlot(object.status) || object.status?.phase === 'Queued') enqueueQueued();
      },
    });
    // A template that appears or changes may let a runbook waiting for one resolve.
    const enqueueWaiting = (template: TemplateJson) => {
      const namespace = template.metadata.namespace;
      for (const runbook of this.runbooks.values()) {
        if (!runbook.spec.template || (namespace && runbook.metadata.namespace !== namespace)) continue;
        if (runbook.status?.template?.observedGeneration !== runbook.metadata.generation)
          enqueueRunbook(runbook);
      }
    };
    for (const informer of [this.templates, this.clusterTemplates]) {
      informer.on({ add: enqueueWaiting, update: enqueueWaiting, delete: enqueueWaiting });
    }
    const enqueueOwner = (job: JobJson) => {
      const owner = controllerOwner(job.metadata, 'AgentRunbook');
      if (owner) this.queue.add(`${job.metadata.namespace ?? ''}/${owner.name}`);
    };
    this.jobs.on({
      add: enqueueOwner,
      update: (job, old) => {
        if (jobChanged(job, old)) enqueueOwner(job);
      },
      delete: enqueueOwner,
    });
    const enqueueJobOwner = (pod: PodJson) => {
      const job = this.cache.jobOf(pod);
      if (job) enqueueOwner(job);
    };
    this.pods.on({
      add: enqueueJobOwner,
      update: (pod, old) => {
        if (podChanged(pod, old)) enqueueJobOwner(pod);
      },
      delete: enqueueJobOwner,
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
    this.workers = Array.from({ length: count }, () => this.work());
    this.agentStatus.start();
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
    await Promise.all([...this.workers, this.agentStatus.stop()]);
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
