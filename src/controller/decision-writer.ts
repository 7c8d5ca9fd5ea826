/**
 * Carries out a decision of the engine for one runbook. Writes, in order: Job deletions and
 * child runbook cancellations (together), the ConfigMaps of outputs too large for the status and
 * the results stored for reuse (together), then one status update (only when it changed, with the
 * cached resourceVersion so a stale view fails with a conflict instead of overwriting) and the Job
 * creations, then child runbook creations. Outputs go before the status that refers to them, so a
 * restart never finds a reference to nothing. In a run under way a Job goes with the status that
 * records its attempt, not after it, so a next stage starts one API round trip sooner: a Job the
 * status does not record (its write failed, or the operator stopped in between) is found by the
 * next reconcile under the same name and adopted with the grant it records (engine/run/fold.ts);
 * a refused status deletes it. A run that starts writes its status first (runsOn), and a child
 * runbook always goes after the status.
 * Events are handed to the recorder's queue and never hold the reconcile. A write the API server
 * refuses as invalid (422) throws Refused, which the reconciler parks the runbook for.
 */
import { LABEL_ATTEMPT, LABEL_EXECUTION, LABEL_GENERATION, LABEL_STAGE } from '../api/labels.js';
import { GROUP, PLURAL, STORAGE_VERSION } from '../api/group.js';
import { sameJson } from '../api/json.js';
import type { StatusV2 } from '../api/v2/runbook.js';
import type {
  CacheStore,
  DeletionReason,
  Decision,
  EngineEvent,
  JobPlan,
  OutputStore,
} from '../engine/model/types.js';
import { isStatus, type KubeHttp } from '../kube/http.js';
import type { CachedRunbook } from '../kube/types.js';
import type { Logger } from '../observability/logger.js';
import { buildJob } from './job-builder.js';
import { cancelChild, createChild } from './child-runbooks.js';
import { pruneStoredOutputs, storeOutputs } from './output-store.js';
import { copiedOutputs, storeResult } from './result-store.js';
import type { EventRecorder } from './event-recorder.js';
import type { JobCache } from './job-cache.js';
import type { JobExpectations } from './job-expectations.js';
import type { EgressPolicies } from './network-policy.js';
import type { NoticeSender } from './notice-sender.js';
import type { Notifier } from './notifier.js';
import { ensureClaims, pruneClaims } from './workspace-claims.js';
import { holdsSlot } from '../engine/run/concurrency.js';

export interface WriterDeps {
  http: KubeHttp;
  cache: JobCache;
  /** Applies the NetworkPolicy of an agent with egress before its Jobs. */
  egressPolicies?: EgressPolicies;
  recorder: EventRecorder;
  notifier: Notifier;
  /** Sends notices to people once the status recording them is written. */
  notices?: Pick<NoticeSender, 'send'>;
  /** Told of every status written, with the one it replaced (for metrics). */
  statusWritten?: (runbook: CachedRunbook, before: StatusV2 | undefined, after: StatusV2) => void;
  /**
   * The Jobs created and not yet shown by the informer, shared with whatever tells the informer's
   * Job events to it (the controller's watches, which call `shown`). A Job deleted before the
   * informer ever showed it is created again once its expectation lapses.
   */
  expectations: JobExpectations;
}

/** A write the API server refused as invalid: retrying the same write cannot succeed. */
export class Refused extends Error {
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

export class DecisionWriter {
  constructor(private readonly deps: WriterDeps) {}

  /** The writes, in the order of the module comment, then Events and notifications. */
  async write(runbook: CachedRunbook, decision: Decision, now: Date, log: Logger): Promise<void> {
    const { recorder } = this.deps;
    const namespace = runbook.metadata.namespace;
    const [deleted] = await Promise.all([
      settleAll(decision.delete.map((job) => this.deleteJob(namespace, job, log))),
      settleAll((decision.cancelChildren ?? []).map((name) => cancelChild(this.deps.http, namespace, name))),
    ]);
    const [, cacheEvents] = await Promise.all([
      settleAll((decision.store ?? []).map((store) => this.storeOutputs(runbook, store))),
      this.storeResults(runbook, decision.cacheStores ?? [], log),
    ]);

    if (runsOn(runbook.status, decision.status)) {
      await this.writeStatusWithJobs(runbook, decision, now, log);
    } else {
      await this.writeStatusIfChanged(runbook, decision, log);
      await settleAll(decision.create.map((plan) => this.createJob(runbook, plan, now, log)));
    }
    if (decision.pruneStoredOutputs) {
      // What is left behind goes with the runbook (it owns them): a failure here costs no run.
      await pruneStoredOutputs(this.deps.http, runbook, decision.pruneStoredOutputs).catch((error: unknown) =>
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

    // Each child runbook's attempt is in the status written above, so the creations may go at once.
    await settleAll(
      (decision.children ?? []).map((plan) =>
        refusedAs('JobRejected', `child runbook ${plan.name} of stage ${plan.stage}`, () =>
          createChild(this.deps.http, runbook, plan),
        ),
      ),
    );
    log.debug('reconciled', {
      phase: decision.status.phase,
      created: decision.create.length,
      deleted: decision.delete.length,
    });
    recorder.record(
      runbook,
      [...deletionEvents(deleted.filter((name) => name !== undefined)), ...decision.events, ...cacheEvents],
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
      await this.deps.http.send({
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

  private async storeOutputs(runbook: CachedRunbook, store: OutputStore): Promise<void> {
    const complete = store.copyFrom
      ? await copiedOutputs(this.deps.http, runbook.metadata.namespace, store)
      : store;
    await refusedAs(
      'OutputsRejected',
      `ConfigMap ${store.name} for the outputs of stage ${store.stage}`,
      () => storeOutputs(this.deps.http, runbook, complete),
    );
  }

  /**
   * Stores cached stages' results. Best effort: a result that cannot be stored (a quota, RBAC, its
   * size) costs a later run a miss, never this run its outputs, so a failure is an Event.
   */
  private storeResults(runbook: CachedRunbook, stores: CacheStore[], log: Logger): Promise<EngineEvent[]> {
    return Promise.all(
      stores.map(async (store): Promise<EngineEvent> => {
        try {
          await storeResult(this.deps.http, runbook, store);
          return {
            type: 'Normal',
            reason: 'CacheStored',
            message: `stage ${store.stage}'s result is stored as CachedResult ${store.name} until ${store.spec.expiresAt}`,
          };
        } catch (error) {
          log.error('storing a result for reuse failed', {
            stage: store.stage,
            error: (error as Error).message,
          });
          return {
            type: 'Warning',
            reason: 'CacheStoreFailed',
            // The recorder bounds the message.
            message: `stage ${store.stage}'s result could not be stored for reuse: ${(error as Error).message}`,
          };
        }
      }),
    );
  }

  /**
   * The status and the Jobs it records, at once. A refused status parks the run: the Jobs it
   * records are deleted, as they must not run (whether this call or an earlier one whose status
   * failed created them; one never created is a 404). Any other failure of the status leaves them
   * for the next reconcile to adopt.
   */
  private async writeStatusWithJobs(
    runbook: CachedRunbook,
    decision: Decision,
    now: Date,
    log: Logger,
  ): Promise<void> {
    const creations = decision.create.map((plan) => this.createJob(runbook, plan, now, log));
    const [status] = await Promise.allSettled([
      this.writeStatusIfChanged(runbook, decision, log),
      Promise.allSettled(creations),
    ]);
    if (status.status === 'rejected') {
      if (status.reason instanceof Refused) {
        const namespace = runbook.metadata.namespace;
        await settleAll(
          decision.create.map(({ name }) => this.deleteJob(namespace, { name, reason: 'RunStopped' }, log)),
        );
      }
      throw status.reason;
    }
    await settleAll(creations);
  }

  private async writeStatusIfChanged(runbook: CachedRunbook, decision: Decision, log: Logger): Promise<void> {
    if (sameJson(decision.status, runbook.status ?? null)) return;
    const namespace = runbook.metadata.namespace;
    await refusedAs('StatusRejected', 'the status', () =>
      this.deps.http.send({
        method: 'PUT',
        path: `/apis/${GROUP}/${STORAGE_VERSION}/namespaces/${namespace}/${PLURAL}/${runbook.metadata.name}/status`,
        body: { ...runbook, status: decision.status },
      }),
    );
    this.deps.statusWritten?.(runbook, runbook.status, decision.status);
    logTransition(log, runbook, decision.status);
  }

  private async createJob(runbook: CachedRunbook, plan: JobPlan, now: Date, log: Logger): Promise<void> {
    const namespace = runbook.metadata.namespace;
    const key = `${namespace}/${plan.name}`;
    const { jobs } = this.deps.cache;
    if (jobs.get(key) || this.deps.expectations.awaits(key, now.getTime())) return;
    // The agent's confinement and the run's claims exist before its Pod does.
    await this.deps.egressPolicies?.ensure(namespace, plan);
    await refusedAs('JobRejected', `a workspace claim for stage ${plan.stage}`, () =>
      ensureClaims(this.deps.http, runbook, plan),
    );
    // Expected before it is sent: its watch event may come before the answer does.
    this.deps.expectations.expect(key, now.getTime());
    try {
      await refusedAs('JobRejected', `Job ${plan.name}`, () =>
        this.deps.http.send({
          method: 'POST',
          path: `/apis/batch/v1/namespaces/${namespace}/jobs`,
          body: buildJob(runbook, plan),
        }),
      );
      log.info('job created', {
        job: plan.name,
        generation: plan.generation,
        execution: plan.execution,
        stage: plan.stage,
        attempt: plan.attempt,
        agent: plan.agent,
      });
    } catch (error) {
      if (!isStatus(error, 409)) {
        this.deps.expectations.forget(key);
        throw error;
      }
      // The Job exists already: a previous reconcile created it. It stays expected until shown.
      if (jobs.get(key)) this.deps.expectations.forget(key);
    }
  }
}

/**
 * Whether the stored status already runs the run the decision goes on with: it holds its
 * concurrency slot, in the same execution. Only then do Jobs go with the status; a run that
 * starts (or starts again) has its status written first, since whether it holds a slot is read
 * from the statuses, by a restarted operator too.
 */
function runsOn(stored: StatusV2 | undefined, decided: StatusV2): boolean {
  return holdsSlot(stored) && stored?.execution === decided.execution;
}

/** One info line when the run starts or changes phase, with why (the Ready condition's reason). */
function logTransition(log: Logger, runbook: CachedRunbook, status: StatusV2): void {
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
