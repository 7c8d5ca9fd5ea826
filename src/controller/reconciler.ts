/**
 * One reconcile of one runbook: observe (from the informer caches only), ask the engine, act.
 * Only when the generation changed does it first read and write the API server: the spec's
 * ControllerRevision (revisions.ts), so the status can name it.
 * Writes, in order: Job deletions (together), the ConfigMaps of outputs too large for the status
 * (together), one status update (only when it changed, with the cached resourceVersion so a stale
 * view fails with a conflict instead of overwriting), then Job creations (together). Outputs go
 * before the status that refers to them, so a restart never finds a reference to nothing; the
 * status goes before the Jobs, so an attempt is recorded before its Job exists. Events are handed
 * to the recorder's queue and never hold the reconcile.
 */
import { randomUUID } from 'node:crypto';
import type { AgentCatalog } from '../api/catalog.js';
import { LABEL_ATTEMPT, LABEL_EXECUTION, LABEL_GENERATION, LABEL_STAGE } from '../api/labels.js';
import type { StatusV2 } from '../api/v2/runbook.js';
import { GROUP, PLURAL, STORAGE_VERSION } from '../api/group.js';
import { sameJson } from '../api/json.js';
import { awaitsOutcome } from '../engine/run/decide.js';
import { decideSafely, park, withinReconcileBudget } from '../engine/run/guard.js';
import { templateOutcome, templateToResolve, withTemplateSpec } from '../engine/run/template-outcome.js';
import type {
  Decision,
  EngineEvent,
  EngineInput,
  JobPlan,
  DeletionReason,
  OutputStore,
  RevisionStatus,
  RunbookObject,
  TemplateResolution,
} from '../engine/model/types.js';
import type { Logger } from '../observability/logger.js';
import type { EventRecorder } from './event-recorder.js';
import type { Informer } from '../kube/informer.js';
import { buildJob } from './job-builder.js';
import type { EgressPolicies } from './network-policy.js';
import { isStatus, type KubeHttp } from '../kube/http.js';
import type { AgentRunbookJson } from '../kube/types.js';
import type { JobCache } from './job-cache.js';
import type { TemplateResolver } from './template-resolver.js';
import type { Notifier } from './notifier.js';
import type { NoticeSender } from './notice-sender.js';
import type { SpecRevisions } from './revisions.js';
import type { ReportLogs } from './report-logs.js';
import { pruneStoredOutputs, storeOutputs } from './output-store.js';
import type { RunSlots } from './run-slots.js';
import { ensureClaims, pruneClaims } from './workspace-claims.js';

export interface ReconcileResult {
  requeueAfterMs?: number;
}

/** One reconcile's observation: the cached runbook, what the engine reads, and its log. */
interface Observed {
  key: string;
  runbook: AgentRunbookJson;
  input: EngineInput;
  log: Logger;
}

/** The engine's decision, and whether this reconcile took a concurrency slot for it. */
interface Decided {
  decision: Decision;
  /** A failed write gives the slot back. */
  tookSlot: boolean;
}

export interface ReconcilerDeps {
  http: KubeHttp;
  runbooks: Informer<AgentRunbookJson>;
  cache: JobCache;
  /** The agents runbooks of a namespace can name (Agents, ClusterAgents, the catalog file). */
  catalog: (namespace: string) => AgentCatalog;
  /** Applies the NetworkPolicy of an agent with egress before its Jobs. */
  egressPolicies?: EgressPolicies;
  /** Longest the engine may take for one runbook before the runbook is parked (default 1 s). */
  reconcileBudgetMs?: number;
  recorder: EventRecorder;
  notifier: Notifier;
  /** Sends notices to people once the status recording them is written. */
  notices?: Pick<NoticeSender, 'send'>;
  log: Logger;
  now?: () => Date;
  /** Resolves spec.template; without it, runbooks made from templates wait with a condition. */
  templates?: Pick<TemplateResolver, 'resolve'>;
  /** The most a stage's outputs may hold as JSON (--max-output-bytes). */
  maxOutputBytes?: number;
  /** Reads the reports agents put in their logs; without it, such a report fails its stage. */
  reportLogs?: Pick<ReportLogs, 'attach'>;
  /** Keeps each spec as a ControllerRevision; without it, status.revision is not written. */
  revisions?: Pick<SpecRevisions, 'record'>;
  /** Concurrency limits across runbooks; without it, every run starts at once. */
  slots?: Pick<RunSlots, 'ask' | 'hold' | 'release'>;
  /** Told of every status written, with the one it replaced (for metrics). */
  statusWritten?: (runbook: AgentRunbookJson, before: StatusV2 | undefined, after: StatusV2) => void;
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
    readonly reason: 'StatusRejected' | 'JobRejected' | 'OutputsRejected',
    message: string,
  ) {
    super(message);
  }
}

/** Runs a write; the API server's 422 (invalid) becomes a Refused saying what it refused. */
async function refusedAs<T>(reason: Refused['reason'], what: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (isStatus(error, 422)) {
      throw new Refused(reason, `the API server refused ${what}: ${(error as Error).message}`);
    }
    throw error;
  }
}

/** How long a created Job may take to show up in the informer before the expectation lapses. */
const EXPECTATION_TTL_MS = 5 * 60_000;

export class Reconciler {
  /**
   * Jobs created but not yet seen by the Job informer (client-go's "expectations"), with when the
   * expectation lapses: a Job deleted before the informer ever saw it is created again after that.
   */
  private readonly pendingCreates = new Map<string, number>();

  constructor(private readonly deps: ReconcilerDeps) {
    const seen = (job: { metadata: { namespace?: string; name?: string } }) =>
      this.pendingCreates.delete(`${job.metadata.namespace ?? ''}/${job.metadata.name ?? ''}`);
    deps.cache.jobs.on({ add: seen, delete: seen });
  }

  private expectingCreate(key: string, now: Date): boolean {
    const until = this.pendingCreates.get(key);
    if (until === undefined) return false;
    if (until > now.getTime()) return true;
    this.pendingCreates.delete(key);
    return false;
  }

  /** `reconcileID` names this reconcile in every log line it writes, as controller-runtime's does. */
  async reconcile(key: string, reconcileID: string = randomUUID()): Promise<ReconcileResult> {
    const observed = await this.observe(key, reconcileID);
    if (!observed) return {};
    return this.act(observed, this.decide(observed));
  }

  /**
   * What the engine decides from: the runbook and its Jobs from the informer caches (with the
   * reports agents left in their logs), its agents, its template resolved, its spec's revision
   * (recorded first, so the status can name it) and whether it may take a concurrency slot.
   */
  private async observe(key: string, reconcileID: string): Promise<Observed | undefined> {
    // The engine reads the cached object and never writes it (the engine's tests freeze it), so a
    // large runbook is not copied on every reconcile.
    const runbook = this.deps.runbooks.get(key);
    if (!runbook || runbook.metadata.deletionTimestamp) return undefined;
    const now = this.deps.now?.() ?? new Date();
    const log = this.deps.log.child({ runbook: key, reconcileID });
    const revision = await this.revisionOf(runbook, log);
    const object: RunbookObject = {
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
    const template = templateToResolve(object) ? this.resolveTemplate(object, now) : undefined;
    const owned = this.deps.cache.observeOwned(object.metadata.uid);
    const jobs = this.deps.reportLogs
      ? await this.deps.reportLogs.attach(
          object.metadata.namespace,
          owned,
          (job) => awaitsOutcome(object, job),
          now,
        )
      : owned;
    const input: EngineInput = {
      runbook: object,
      jobs,
      agentHistory: this.deps.cache.agentHistory,
      ...(this.deps.maxOutputBytes === undefined ? {} : { maxOutputBytes: this.deps.maxOutputBytes }),
      now,
      catalog: this.deps.catalog(object.metadata.namespace),
      ...(template ? { template } : {}),
      ...(revision ? { revision } : {}),
    };
    await turnOfTheEventLoop();
    return { key, runbook, input, log };
  }

  private resolveTemplate(runbook: RunbookObject, now: Date): TemplateResolution {
    return (
      this.deps.templates?.resolve(runbook, now) ?? {
        reason: 'TemplatesUnavailable',
        message: 'this operator does not read templates',
      }
    );
  }

  /**
   * The engine's decision, parked if it took longer than the budget. From asking for a slot to
   * recording the grant nothing awaits, so no other reconcile can take the same slot in between.
   */
  private decide(observed: Observed): Decided {
    const { key, runbook, input } = observed;
    const outcome = templateOutcome(input);
    const slot =
      outcome && !('template' in outcome)
        ? undefined
        : this.deps.slots?.ask(runbook, withTemplateSpec(input, outcome?.template).runbook.spec, input.now);
    const started = performance.now();
    const decision = decideSafely(slot ? { ...input, slot } : input);
    const tookMs = performance.now() - started;
    const tookSlot = slot?.granted === true && decision.status.phase !== 'Queued';
    if (tookSlot) this.deps.slots?.hold(key, decision.status.execution ?? '');
    this.deps.log.debug('decided', { runbook: key, engineMs: Math.round(tookMs * 10) / 10 });
    const budgetMs = this.deps.reconcileBudgetMs ?? DEFAULT_RECONCILE_BUDGET_MS;
    return { decision: withinReconcileBudget(input, decision, tookMs, budgetMs), tookSlot };
  }

  /**
   * Carries out the decision. A write the API server refuses (422), which no retry changes, parks
   * the runbook with the server's reason: keeping the engine's stages when the server takes them,
   * the stored ones otherwise.
   */
  private async act(observed: Observed, { decision, tookSlot }: Decided): Promise<ReconcileResult> {
    const { key, input, log } = observed;
    await turnOfTheEventLoop();
    try {
      await this.write(observed, decision);
      return decision.requeueAfterMs === undefined ? {} : { requeueAfterMs: decision.requeueAfterMs };
    } catch (error) {
      if (tookSlot) this.deps.slots?.release(key);
      if (!(error instanceof Refused)) throw error;
      log.error('write refused by the API server', { reason: error.reason, error: error.message });
      try {
        await this.write(observed, park(input, error.reason, error.message, decision.status, decision.store));
      } catch (again) {
        if (!(again instanceof Refused)) throw again;
        await this.write(observed, park(input, error.reason, error.message));
      }
      return {};
    }
  }

  /**
   * The revision of the runbook's spec. A failure to write it (an API error, missing RBAC) is
   * logged and leaves the stored one: the run goes on, and the next reconcile tries again.
   */
  private async revisionOf(runbook: AgentRunbookJson, log: Logger): Promise<RevisionStatus | undefined> {
    if (!this.deps.revisions) return undefined;
    try {
      return await this.deps.revisions.record(runbook);
    } catch (error) {
      log.error('recording the revision failed', { error: (error as Error).message });
      return runbook.status?.revision;
    }
  }

  /** The writes, in the order of the module comment, then Events and notifications. */
  private async write({ runbook, input, log }: Observed, decision: Decision): Promise<void> {
    const { recorder } = this.deps;
    const { now } = input;
    const namespace = runbook.metadata.namespace ?? '';
    const deleted = await settleAll(decision.delete.map((job) => this.deleteJob(namespace, job, log)));
    await settleAll((decision.store ?? []).map((store) => this.storeOutputs(runbook, store)));

    if (!sameJson(decision.status, runbook.status ?? null)) {
      await this.writeStatus(runbook, decision);
      this.deps.statusWritten?.(runbook, runbook.status, decision.status);
      logTransition(log, runbook, decision.status);
    }
    if (decision.pruneStoredOutputs) {
      // What is left behind goes with the runbook (it owns them): a failure here costs no run.
      await pruneStoredOutputs(this.deps.http, runbook, decision.pruneStoredOutputs.keepExecution).catch(
        (error: unknown) =>
          log.error('deleting the stored outputs of past runs failed', { error: (error as Error).message }),
      );
    }

    if (decision.pruneClaims) {
      // Claims left behind go with the runbook (it owns them): a failure here costs no run.
      await pruneClaims(this.deps.http, runbook, decision.pruneClaims.keepExecutions).catch(
        (error: unknown) =>
          log.error('deleting the workspace claims of past runs failed', { error: (error as Error).message }),
      );
    }

    // Each Job's attempt is in the status written above, so the creations may go at once.
    await settleAll(decision.create.map((plan) => this.createJob(runbook, plan, now, log)));
    log.debug('reconciled', {
      phase: decision.status.phase,
      created: decision.create.length,
      deleted: decision.delete.length,
    });
    recorder.record(
      runbook,
      [...deletionEvents(deleted.filter((name) => name !== undefined)), ...decision.events],
      now,
    );
    this.deps.notifier.notify(runbook, decision.notifications);
    if (decision.notices) this.deps.notices?.send(runbook, decision.notices);
  }

  /** Deletes a Job; resolves with what was deleted, or undefined when it was gone already. */
  private async deleteJob(
    namespace: string,
    { name, reason }: Decision['delete'][number],
    log: Logger,
  ): Promise<Decision['delete'][number] | undefined> {
    const labels = this.deps.cache.jobs.get(`${namespace}/${name}`)?.metadata.labels ?? {};
    try {
      await this.deps.http.request({
        method: 'DELETE',
        path: `/apis/batch/v1/namespaces/${namespace}/jobs/${name}`,
        body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' },
      });
      log.info('job deleted', {
        job: name,
        reason,
        generation: Number(labels[LABEL_GENERATION] ?? 0),
        execution: labels[LABEL_EXECUTION],
        stage: labels[LABEL_STAGE],
        attempt: Number(labels[LABEL_ATTEMPT] ?? 0),
      });
      return { name, reason };
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw error;
    }
  }

  private storeOutputs(runbook: AgentRunbookJson, store: OutputStore): Promise<void> {
    return refusedAs(
      'OutputsRejected',
      `ConfigMap ${store.name} for the outputs of stage ${store.stage}`,
      () => storeOutputs(this.deps.http, runbook, store),
    );
  }

  private async writeStatus(runbook: AgentRunbookJson, decision: Decision): Promise<void> {
    const namespace = runbook.metadata.namespace ?? '';
    await refusedAs('StatusRejected', 'the status', () =>
      this.deps.http.request({
        method: 'PUT',
        path: `/apis/${GROUP}/${STORAGE_VERSION}/namespaces/${namespace}/${PLURAL}/${runbook.metadata.name ?? ''}/status`,
        body: { ...runbook, status: decision.status },
      }),
    );
  }

  private async createJob(runbook: AgentRunbookJson, plan: JobPlan, now: Date, log: Logger): Promise<void> {
    const namespace = runbook.metadata.namespace ?? '';
    const key = `${namespace}/${plan.name}`;
    const { jobs } = this.deps.cache;
    if (jobs.get(key) || this.expectingCreate(key, now)) return;
    // The agent's confinement and the run's claims exist before its Pod does.
    await this.deps.egressPolicies?.ensure(namespace, plan);
    await refusedAs('JobRejected', `a workspace claim for stage ${plan.stage}`, () =>
      ensureClaims(this.deps.http, runbook, plan),
    );
    try {
      await refusedAs('JobRejected', `Job ${plan.name}`, () =>
        this.deps.http.request({
          method: 'POST',
          path: `/apis/batch/v1/namespaces/${namespace}/jobs`,
          body: buildJob(runbook, plan),
        }),
      );
      if (!jobs.get(key)) this.pendingCreates.set(key, now.getTime() + EXPECTATION_TTL_MS);
      log.info('job created', {
        job: plan.name,
        generation: plan.generation,
        execution: plan.execution,
        stage: plan.stage,
        attempt: plan.attempt,
        agent: plan.agent,
      });
    } catch (error) {
      // The Job exists already: a previous reconcile created it and the cache has not caught up.
      if (isStatus(error, 409)) return;
      throw error;
    }
  }
}

/** One info line when the run starts or changes phase, with why (the Ready condition's reason). */
function logTransition(log: Logger, runbook: AgentRunbookJson, status: StatusV2): void {
  const before = runbook.status;
  if (before?.phase === status.phase && before?.execution === status.execution) return;
  const ready = status.conditions?.find((condition) => condition.type === 'Ready');
  log.info('run transition', {
    generation: status.observedGeneration,
    execution: status.execution,
    from: before?.execution === status.execution ? before?.phase : undefined,
    to: status.phase,
    reason: ready?.reason,
    detail: ready?.message,
  });
}

/**
 * Waits for every request, then fails with the first refusal (which parks the runbook) or else the
 * first other error (which retries it); requests that succeeded are not undone.
 */
async function settleAll<T>(requests: Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(requests);
  const failures = settled
    .filter((result) => result.status === 'rejected')
    .map((result) => result.reason as unknown);
  const refused = failures.find((reason) => reason instanceof Refused);
  if (refused !== undefined) throw refused;
  if (failures.length) throw failures[0];
  return settled.map((result) => (result as PromiseFulfilledResult<T>).value);
}

/** Most Jobs named in one deletion Event; the count says how many there were. */
const NAMES_PER_EVENT = 10;

/** One Event per reason, not per Job: pruning a long history must not flood the namespace. */
function deletionEvents(deleted: Decision['delete']): EngineEvent[] {
  const byReason = new Map<DeletionReason, string[]>();
  for (const { name, reason } of deleted) byReason.set(reason, [...(byReason.get(reason) ?? []), name]);
  return [...byReason].map(([reason, names]) => {
    const shown = names.slice(0, NAMES_PER_EVENT).join(', ');
    const more = names.length > NAMES_PER_EVENT ? ` and ${names.length - NAMES_PER_EVENT} more` : '';
    const what = names.length === 1 ? `Job ${shown}` : `${names.length} Jobs: ${shown}${more}`;
    return { type: 'Normal' as const, reason, message: `deleted ${what} (${reason})` };
  });
}
