/**
 * The operator's composition root. Start, in order: check RBAC; serve the webhooks (every replica
 * does, so conversion stays available); serve the probes; fill the caches; then, once this replica
 * leads (at once without leader election), migrate stored objects and start the workers. Stop in
 * the reverse order, releasing the Lease only after the last reconcile finished.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { AgentCatalog } from '../api/catalog.js';
import { RunbookController } from '../controller/controller.js';
import {
  CLUSTER_TEMPLATE_RULES,
  CONTROLLER_RULES,
  LEADER_ELECTION_RULES,
  TEMPLATE_LIBRARY_RULES,
  AGENT_LIBRARY_RULES,
  WEBHOOK_NAMESPACE_RULES,
  WEBHOOK_RULES,
} from './rbac.js';
import type { ClusterAccess } from '../kube/cluster-access.js';
import { KubeHttp } from '../kube/http.js';
import type { InformerOptions } from '../kube/informer.js';
import { LeaderElector, type LeaderElectionOptions } from '../kube/leader-election.js';
import type { Logger } from '../observability/logger.js';
import { WebhookRunner, type WebhookOptions } from '../webhook/webhook-runner.js';
import { checkAccess, type AccessNeed } from './access-check.js';
import { OperatorMetrics } from '../observability/metrics.js';
import { HealthServer } from './health-server.js';
import { MetricsServer } from './metrics-server.js';
import { migrateStorage } from './storage-migration.js';
import { applyTemplateLibrary } from './template-library.js';
import { applyAgentLibrary } from './agent-library.js';
import type { AgentJson, TemplateJson } from '../kube/types.js';

/**
 * Runbooks reconciled at once. A reconcile mostly waits on the API server, so more workers than
 * cores keep the event loop busy; 16 keeps one runbook's writes from queueing behind another's.
 */
export const DEFAULT_WORKERS = 16;

export interface OperatorOptions {
  /** The API server and credentials: a kubeconfig's (loadClusterAccess) or a client-node KubeConfig. */
  kubeConfig: ClusterAccess | KubeConfig;
  catalog: AgentCatalog;
  log: Logger;
  /** Watch these namespaces only (a Role in each suffices); all namespaces when absent. */
  namespaces?: readonly string[];
  workers?: number;
  /** Longest the engine may take for one runbook before it is parked (default 1 s). */
  reconcileBudgetMs?: number;
  /** The most a stage's outputs may hold as JSON (MAX_OUTPUT_BYTES by default). */
  maxOutputBytes?: number;
  informer?: InformerOptions;
  /** Serve the conversion and validating webhooks, and migrate stored objects to v2. */
  webhook?: WebhookOptions;
  /** Reconcile only while holding this Lease; always when absent. */
  leaderElection?: Omit<LeaderElectionOptions, 'log'>;
  /** Serve /healthz and /readyz on this port (plain HTTP). */
  health?: { port: number; host?: string };
  /** Serve Prometheus metrics at /metrics on this port (plain HTTP). */
  metrics?: { port: number; host?: string };
  /** ClusterAgentRunbookTemplates the leader applies at start (the template library). */
  templateLibrary?: readonly TemplateJson[];
  /** Agents and ClusterAgents the leader applies at start (--agent-library). */
  agentLibrary?: readonly AgentJson[];
  /** Called when the Lease could not be renewed in time, or leading failed; the process should end. */
  onLeadershipLost?: () => void;
}

export class Operator {
  readonly controller: RunbookController;
  readonly webhook: WebhookRunner | undefined;
  readonly elector: LeaderElector | undefined;
  private readonly health: HealthServer | undefined;
  /** Only when metrics are served: the default process metrics watch the event loop all the time. */
  readonly metrics: OperatorMetrics | undefined;
  private readonly metricsServer: MetricsServer | undefined;
  /** The port /metrics is served on, once started. */
  metricsPort: number | undefined;
  private readonly http: KubeHttp;
  private readonly log: Logger;
  /** Settles when this replica stops leading (or never led). */
  private leading: Promise<void> = Promise.resolve();
  private elected: Promise<undefined> = Promise.resolve(undefined);
  private stopping = false;

  constructor(private readonly options: OperatorOptions) {
    const { kubeConfig, log } = options;
    this.log = log;
    this.http = new KubeHttp(kubeConfig);
    if (options.metrics) {
      const metrics = new OperatorMetrics();
      this.metrics = metrics;
      this.metricsServer = new MetricsServer(metrics.registry);
      this.http.onResponse = (method, code, host) => {
        metrics.request(method, code, host);
      };
    }
    this.reportLeading(false);
    const metrics = this.metrics;
    // The admission policy lives in the operator's configuration, beside the catalog.
    const webhook = options.webhook && {
      ...options.webhook,
      admission: {
        ...(options.catalog.admission ? { policy: options.catalog.admission } : {}),
        catalogAgents: options.catalog.agents.map(({ name, versions, cache }) => ({
          name,
          ...(versions === undefined ? {} : { versions }),
          ...(cache === undefined ? {} : { cache }),
        })),
      },
    };
    this.webhook = webhook
      ? new WebhookRunner(
          this.http,
          metrics
            ? {
                ...webhook,
                onServed: ({ webhook, code, outcome, seconds }) => {
                  metrics.webhookServed(webhook, code, outcome, seconds);
                },
              }
            : webhook,
          log,
        )
      : undefined;
    this.controller = new RunbookController({
      http: this.http,
      catalog: () => this.options.catalog,
      log,
      ...(options.namespaces?.length ? { namespaces: options.namespaces } : {}),
      ...(options.informer ? { informer: options.informer } : {}),
      ...(options.reconcileBudgetMs === undefined ? {} : { reconcileBudgetMs: options.reconcileBudgetMs }),
      ...(options.maxOutputBytes === undefined ? {} : { maxOutputBytes: options.maxOutputBytes }),
      ...(this.metrics ? { metrics: this.metrics } : {}),
    });
    this.elector = options.leaderElection
      ? new LeaderElector(this.http, {
          ...options.leaderElection,
          log: (message, meta) => {
            log.info(message, meta);
          },
        })
      : undefined;
    if (options.health) {
      const health = new HealthServer();
      health.addReadinessCheck('caches', () => (this.controller.cachesSynced ? undefined : 'not synced'));
      if (this.webhook) {
        const webhook = this.webhook;
        health.addReadinessCheck('webhook', () => (webhook.serving ? undefined : 'not serving'));
      }
      this.health = health;
    }
  }

  /** The namespaces watched, as the log says them. */
  private watched(): string {
    return this.options.namespaces?.length ? this.options.namespaces.join(',') : '(all)';
  }

  private accessNeeds(): AccessNeed[] {
    const { namespaces, webhook, leaderElection } = this.options;
    const needs: AccessNeed[] = [
      ...(namespaces?.length
        ? namespaces.map((namespace) => ({ rules: CONTROLLER_RULES, namespace }))
        : [{ rules: CONTROLLER_RULES }]),
      { rules: CLUSTER_TEMPLATE_RULES },
    ];
    if (webhook) {
      needs.push({ rules: WEBHOOK_RULES });
      const secretRules = webhook.certManager
        ? WEBHOOK_NAMESPACE_RULES.map((rule) => ({ ...rule, verbs: ['get'] }))
        : WEBHOOK_NAMESPACE_RULES;
      needs.push({ rules: secretRules, namespace: webhook.namespace });
    }
    if (leaderElection) needs.push({ rules: LEADER_ELECTION_RULES, namespace: leaderElection.namespace });
    if (this.options.templateLibrary) needs.push({ rules: TEMPLATE_LIBRARY_RULES });
    if (this.options.agentLibrary) needs.push({ rules: AGENT_LIBRARY_RULES });
    return needs;
  }

  /**
   * Resolves once the caches are filled and, without leader election, the workers run. With
   * leader election the workers start when this replica becomes the leader (see `leader`).
   */
  async start(): Promise<void> {
    await checkAccess(this.http, this.accessNeeds());
    // Objects stored as v1 can only be read once the conversion webhook answers.
    await this.webhook?.start();
    if (this.health && this.options.health) {
      await this.health.listen(this.options.health.port, this.options.health.host);
    }
    if (this.metricsServer && this.options.metrics) {
      this.metricsPort = await this.metricsServer.listen(
        this.options.metrics.port,
        this.options.metrics.host,
      );
    }
    await this.controller.startCaches();
    this.log.info('caches synced', { namespace: this.watched() });
    if (!this.elector) {
      await this.lead();
      return;
    }
    const elector = this.elector;
    const elected = Promise.withResolvers<undefined>();
    this.elected = elected.promise;
    this.leading = (async () => {
      try {
        if (!(await elector.acquire())) return;
        await this.lead();
      } finally {
        elected.resolve(undefined);
      }
      if ((await elector.renewUntilLost()) === 'lost') this.options.onLeadershipLost?.();
    })().catch((error: unknown) => {
      // A leader that cannot start its work (the storage migration failed, say) must not hold on.
      this.log.error('could not lead', { error: (error as Error).message });
      this.options.onLeadershipLost?.();
    });
  }

  /** Resolves when this replica leads and its workers run (or it stopped before that). */
  get leader(): Promise<undefined> {
    return this.elected;
  }

  private async lead(): Promise<void> {
    if (this.webhook) await migrateStorage(this.http, this.log);
    const library = this.options.templateLibrary;
    if (library) {
      await applyTemplateLibrary(this.http, library);
      this.log.info('template library applied', { templates: library.length });
    }
    const agents = this.options.agentLibrary;
    if (agents) {
      const refused = await applyAgentLibrary(this.http, agents);
      for (const { agent, error } of refused)
        this.log.error('applying a library agent failed', { agent, error });
      this.log.info('agent library applied', {
        agents: agents.length - refused.length,
        refused: refused.length,
      });
    }
    if (this.stopping) return;
    const count = this.options.workers ?? DEFAULT_WORKERS;
    this.reportLeading(true);
    this.controller.startWorkers(count);
    this.log.info('operator started', { workers: count, namespace: this.watched() });
  }

  /** leader_election_master_status, for a replica that elects a leader. */
  private reportLeading(leading: boolean): void {
    const lease = this.options.leaderElection?.name;
    if (lease !== undefined) this.metrics?.leaderStatus.set({ name: lease }, leading ? 1 : 0);
  }

  /** Stops taking work, waits for in-flight reconciles, releases the Lease, then stops the rest. */
  async stop(): Promise<void> {
    this.stopping = true;
    // The webhook drains while the workers finish; the Lease is not held back for it.
    this.webhook?.drain();
    await this.controller.stopWorkers();
    await this.elector?.stop();
    await this.leading;
    this.reportLeading(false);
    this.controller.stopCaches();
    await this.webhook?.stop();
    await this.health?.close();
    await this.metricsServer?.close();
    this.http.close();
    this.log.info('operator stopped');
  }
}
