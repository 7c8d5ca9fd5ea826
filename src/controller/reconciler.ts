/**
 * One reconcile of one runbook: observe (from the informer caches only), ask the engine, act.
 * Writes, in order: Job deletions, one status update (only when it changed, with the cached
 * resourceVersion so a stale view fails with a conflict instead of overwriting), Job creations,
 * then Events. The status goes first so that an attempt is recorded before its Job exists.
 */
import { isDeepStrictEqual } from 'node:util';
import type { AgentCatalog } from '../api/catalog.js';
import { GROUP, PLURAL, STORAGE_VERSION } from '../api/group.js';
import { decideSafely, park } from '../engine/guard.js';
import type { Decision, EngineInput, JobObservation, RunbookObject } from '../engine/types.js';
import type { Logger } from '../observability/logger.js';
import type { EventRecorder } from './event-recorder.js';
import type { Informer } from '../kube/informer.js';
import { buildJob } from './job-builder.js';
import { isStatus, type KubeHttp } from '../kube/http.js';
import type { AgentRunbookJson, JobJson, PodJson } from '../kube/types.js';
import type { Notifier } from './notifier.js';
import { observeJob } from './observe.js';

export interface ReconcileResult {
  requeueAfterMs?: number;
}

export interface ReconcilerDeps {
  http: KubeHttp;
  runbooks: Informer<AgentRunbookJson>;
  jobs: Informer<JobJson>;
  pods: Informer<PodJson>;
  catalog: () => AgentCatalog;
  /** Longest the engine may take for one runbook before the runbook is parked (default 1 s). */
  reconcileBudgetMs?: number;
  recorder: EventRecorder;
  notifier: Notifier;
  log: Logger;
  now?: () => Date;
}

const DEFAULT_RECONCILE_BUDGET_MS = 1000;

/**
 * Lets waiting I/O (watch events, other reconciles) run between the synchronous steps of a
 * reconcile (observing, deciding, serializing the status), so none waits for more than one of them.
 */
const turnOfTheEventLoop = () =>
  new Promise<void>((resolve) => {
    setImmediate(resolve);
  });

/** A write the API server refused as invalid: retrying the same write cannot succeed. */
class Refused extends Error {
  constructor(
    readonly reason: 'StatusRejected' | 'JobRejected',
    message: string,
  ) {
    super(message);
  }
}

/** How long a created Job may take to show up in the informer before the expectation lapses. */
const EXPECTATION_TTL_MS = 5 * 60_000;

function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value ?? null)) as T;
}

function ownedBy(
  object: { metadata: { ownerReferences?: { uid: string; controller?: boolean }[] } },
  uid: string,
) {
  return (object.metadata.ownerReferences ?? []).some((ref) => ref.uid === uid && ref.controller === true);
}

export class Reconciler {
  /**
   * Jobs created but not yet seen by the Job informer (client-go's "expectations"), with when the
   * expectation lapses: a Job deleted before the informer ever saw it is created again after that.
   */
  private readonly pendingCreates = new Map<string, number>();

  constructor(private readonly deps: ReconcilerDeps) {
    const seen = (job: { metadata: { namespace?: string; name?: string } }) =>
      this.pendingCreates.delete(`${job.metadata.namespace ?? ''}/${job.metadata.name ?? ''}`);
    deps.jobs.on({ add: seen, delete: seen });
  }

  private expectingCreate(key: string, now: Date): boolean {
    const until = this.pendingCreates.get(key);
    if (until === undefined) return false;
    if (until > now.getTime()) return true;
    this.pendingCreates.delete(key);
    return false;
  }

  /**
   * Every Job in the cache, observed with its Pod: those of this runbook, and all of them by agent
   * (an agent's circuit breaker counts the failures of every runbook's Jobs).
   */
  observe(runbook: AgentRunbookJson): { own: JobObservation[]; byAgent: Map<string, JobObservation[]> } {
    const uid = runbook.metadata.uid ?? '';
    const podsByJob = new Map<string, PodJson[]>();
    for (const pod of this.deps.pods.list()) {
      for (const ref of pod.metadata.ownerReferences ?? []) {
        if (ref.kind === 'Job') podsByJob.set(ref.uid, [...(podsByJob.get(ref.uid) ?? []), pod]);
      }
    }
    const own: JobObservation[] = [];
    const byAgent = new Map<string, JobObservation[]>();
    for (const job of this.deps.jobs.list()) {
      const observed = observeJob(job, podsByJob.get(job.metadata.uid ?? '') ?? []);
      if (!observed) continue;
      if (job.metadata.namespace === runbook.metadata.namespace && ownedBy(job, uid)) own.push(observed);
      if (observed.agent) byAgent.set(observed.agent, [...(byAgent.get(observed.agent) ?? []), observed]);
    }
    return { own, byAgent };
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    // The engine reads the cached object and never writes it (the engine's tests freeze it), so a
    // large runbook is not copied on every reconcile.
    const runbook = this.deps.runbooks.get(key);
    if (!runbook || runbook.metadata.deletionTimestamp) return {};
    const now = this.deps.now?.() ?? new Date();
    const input: RunbookObject = {
      metadata: {
        name: runbook.metadata.name ?? '',
        namespace: runbook.metadata.namespace ?? '',
        uid: runbook.metadata.uid ?? '',
        generation: runbook.metadata.generation ?? 1,
        ...(runbook.metadata.annotations ? { annotations: runbook.metadata.annotations } : {}),
      },
      spec: runbook.spec,
      ...(runbook.status ? { status: runbook.status } : {}),
    };
    const observed = this.observe(runbook);
    const engineInput = {
      runbook: input,
      jobs: observed.own,
      agentJobs: observed.byAgent,
      now,
      catalog: this.deps.catalog(),
    };
    await turnOfTheEventLoop();
    const started = performance.now();
    let decision = decideSafely(engineInput);
    const tookMs = performance.now() - started;
    this.deps.log.debug('decided', { runbook: key, engineMs: Math.round(tookMs * 10) / 10 });
    const budgetMs = this.deps.reconcileBudgetMs ?? DEFAULT_RECONCILE_BUDGET_MS;
    if (tookMs > budgetMs) {
      decision = park(
        engineInput,
        'ReconcileBudgetExceeded',
        `deciding this runbook took ${Math.round(tookMs)} ms, over the operator's budget of ${budgetMs} ms per reconcile: make it smaller (fewer stages, shorter inputs, cheaper gate conditions)`,
        decision.status,
      );
    }
    await turnOfTheEventLoop();
    try {
      await this.act(runbook, decision, now);
    } catch (error) {
      if (!(error instanceof Refused)) throw error;
      await this.parkRefused(runbook, engineInput, decision, error, now);
      return {};
    }
    return decision.requeueAfterMs === undefined ? {} : { requeueAfterMs: decision.requeueAfterMs };
  }

  /**
   * The API server refused a write (422), which no retry changes: park the runbook with the
   * server's reason, keeping the engine's stages when the server takes them and the stored ones
   * otherwise.
   */
  private async parkRefused(
    runbook: AgentRunbookJson,
    input: EngineInput,
    refused: Decision,
    error: Refused,
    now: Date,
  ): Promise<void> {
    this.deps.log.error('write refused by the API server', {
      runbook: `${runbook.metadata.namespace ?? ''}/${runbook.metadata.name ?? ''}`,
      error: error.message,
    });
    try {
      await this.act(runbook, park(input, error.reason, error.message, refused.status), now);
    } catch (again) {
      if (!(again instanceof Refused)) throw again;
      await this.act(runbook, park(input, error.reason, error.message), now);
    }
  }

  private async act(runbook: AgentRunbookJson, decision: Decision, now: Date): Promise<void> {
    const { http, log, recorder } = this.deps;
    const namespace = runbook.metadata.namespace ?? '';
    const deletionEvents = [];
    for (const { name, reason } of decision.delete) {
      try {
        await http.request({
          method: 'DELETE',
          path: `/apis/batch/v1/namespaces/${namespace}/jobs/${name}`,
          body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' },
        });
        deletionEvents.push({ type: 'Normal' as const, reason, message: `deleted Job ${name} (${reason})` });
      } catch (error) {
        if (!isStatus(error, 404)) throw error;
      }
    }

    if (!isDeepStrictEqual(plain(decision.status), plain(runbook.status ?? null))) {
      await http
        .request({
          method: 'PUT',
          path: `/apis/${GROUP}/${STORAGE_VERSION}/namespaces/${namespace}/${PLURAL}/${runbook.metadata.name ?? ''}/status`,
          body: { ...runbook, status: decision.status },
        })
        .catch((error: unknown) => {
          if (isStatus(error, 422)) {
            throw new Refused(
              'StatusRejected',
              `the API server refused the status: ${(error as Error).message}`,
            );
          }
          throw error;
        });
    }

    for (const plan of decision.create) {
      const key = `${namespace}/${plan.name}`;
      if (this.deps.jobs.get(key) || this.expectingCreate(key, now)) continue;
      try {
        await http.request({
          method: 'POST',
          path: `/apis/batch/v1/namespaces/${namespace}/jobs`,
          body: buildJob(runbook, plan),
        });
        if (!this.deps.jobs.get(key)) this.pendingCreates.set(key, now.getTime() + EXPECTATION_TTL_MS);
      } catch (error) {
        // The Job exists already: a previous reconcile created it and the cache has not caught up.
        if (isStatus(error, 409)) continue;
        if (isStatus(error, 422)) {
          throw new Refused(
            'JobRejected',
            `the API server refused Job ${plan.name}: ${(error as Error).message}`,
          );
        }
        throw error;
      }
    }
    log.debug('reconciled', {
      runbook: `${namespace}/${runbook.metadata.name ?? ''}`,
      phase: decision.status.phase,
      created: decision.create.length,
      deleted: decision.delete.length,
    });
    await recorder.record(runbook, [...deletionEvents, ...decision.events], now);
    this.deps.notifier.notify(runbook, decision.notifications);
  }
}
