/**
 * One reconcile of one runbook: observe (from the informer caches only), ask the engine, act
 * (decision-writer.ts carries the decision out, in its order). Only when the generation changed
 * does it first read and write the API server: the spec's ControllerRevision (revisions.ts), so
 * the status can name it.
 */
import { randomUUID } from 'node:crypto';
import type { AgentCatalog } from '../api/catalog.js';
import type { Decision, EngineInput, RevisionStatus, RunbookObject } from '../engine/model/types.js';
import { awaitsOutcome } from '../engine/run/decide.js';
import { decideSafely, park, withinReconcileBudget } from '../engine/run/guard.js';
import { templateOutcome, templateToResolve, withTemplateSpec } from '../engine/run/template-outcome.js';
import type { SharedInformer } from '../kube/informer.js';
import type { CachedRunbook } from '../kube/types.js';
import type { Logger } from '../observability/logger.js';
import { DecisionWriter, Refused, type WriterDeps } from './decision-writer.js';
import type { ReportLogs } from './report-logs.js';
import type { SpecRevisions } from './revisions.js';
import type { GateDirectory } from './gate-directory.js';
import type { ResultCache } from './result-cache.js';
import type { RunSlots } from './run-slots.js';
import type { TemplateResolver } from './template-resolver.js';
import type { ChildRunbooks } from './child-runbooks.js';

export interface ReconcileResult {
  requeueAfterMs?: number;
}

/** One reconcile's observation: the cached runbook, what the engine reads, and its log. */
interface Observed {
  key: string;
  runbook: CachedRunbook;
  input: EngineInput;
  log: Logger;
}

/** The engine's decision, and whether this reconcile took a concurrency slot for it. */
interface Decided {
  decision: Decision;
  /** A failed write gives the slot back. */
  tookSlot: boolean;
}

export interface ReconcilerDeps extends WriterDeps {
  runbooks: SharedInformer<CachedRunbook>;
  /** The agents runbooks of a namespace can name (Agents, ClusterAgents, the catalog file). */
  catalog: (namespace: string) => AgentCatalog;
  /** Longest the engine may take for one runbook, twice in a row, before the runbook is parked (default 1 s). */
  reconcileBudgetMs?: number;
  /** The clock the engine's time is read from, in ms (the tests'); default performance.now. */
  engineClock?: () => number;
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
  /** The runbook's gate decisions and the gate policies; without it, only the spec's gates, undecided. */
  gates?: Pick<GateDirectory, 'decisionsOf' | 'policiesFor'>;
  /** Concurrency limits across runbooks; without it, every run starts at once. */
  slots?: Pick<RunSlots, 'ask' | 'hold' | 'release'>;
  /** The stored results stages may reuse; without it, no stage is cached. */
  results?: Pick<ResultCache, 'view'>;
  /** Child runbooks (stages that run a runbook); without it, such a stage never sees its child. */
  children?: Pick<ChildRunbooks, 'observe' | 'depth' | 'spec'>;
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

export class Reconciler {
  private readonly writer: DecisionWriter;

  constructor(private readonly deps: ReconcilerDeps) {
    this.writer = new DecisionWriter(deps);
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
        name: runbook.metadata.name,
        namespace: runbook.metadata.namespace,
        uid: runbook.metadata.uid,
        generation: runbook.metadata.generation,
        ...(runbook.metadata.labels ? { labels: runbook.metadata.labels } : {}),
        ...(runbook.metadata.annotations ? { annotations: runbook.metadata.annotations } : {}),
      },
      spec: runbook.spec,
      ...(runbook.status ? { status: runbook.status } : {}),
    };
    // Without a resolver the engine says the operator does not read templates.
    const template = templateToResolve(object) ? this.deps.templates?.resolve(object, now) : undefined;
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
      ...(this.deps.results ? { resultCache: this.deps.results.view(object.metadata.namespace, now) } : {}),
      ...(this.deps.children ? this.childrenOf(runbook, this.deps.children) : {}),
      ...(this.deps.gates
        ? {
            decisions: this.deps.gates.decisionsOf(object.metadata.uid),
            gatePolicies: this.deps.gates.policiesFor(object.metadata.namespace),
          }
        : {}),
    };
    await turnOfTheEventLoop();
    return { key, runbook, input, log };
  }

  /**
   * The engine's decision, parked if it took longer than the budget. From asking for a slot to
   * recording the grant nothing awaits, so no other reconcile can take the same slot in between.
   *
   * A decision over the budget is taken once more before the runbook is parked (the engine is
   * pure: the same input, the same decision): the first may have paid for what is not the spec's
   * doing, the code it was the first to run since the operator started, a collection, a node
   * too busy to give the thread a core. Only a spec over the budget twice in a row is parked.
   * (The thread's CPU time would leave out the waiting for a core, but Linux reports it too
   * coarsely: 0 for most decisions under a millisecond.)
   */
  private decide(observed: Observed): Decided {
    const { key, runbook, input } = observed;
    const outcome = templateOutcome(input);
    const slot =
      outcome && !('template' in outcome)
        ? undefined
        : this.deps.slots?.ask(runbook, withTemplateSpec(input, outcome?.template).runbook.spec, input.now);
    const budgetMs = this.deps.reconcileBudgetMs ?? DEFAULT_RECONCILE_BUDGET_MS;
    const clock = this.deps.engineClock ?? (() => performance.now());
    const slotted = slot ? { ...input, slot } : input;
    const timed = () => {
      const started = clock();
      const decision = decideSafely(slotted);
      return { decision, tookMs: clock() - started };
    };
    let { decision, tookMs } = timed();
    if (tookMs > budgetMs) ({ decision, tookMs } = timed());
    const tookSlot = slot?.granted === true && decision.status.phase !== 'Queued';
    if (tookSlot) this.deps.slots?.hold(key, decision.status.execution ?? '');
    this.deps.log.debug('decided', { runbook: key, engineMs: Math.round(tookMs * 10) / 10 });
    return { decision: withinReconcileBudget(input, decision, tookMs, budgetMs), tookSlot };
  }

  /**
   * Carries out the decision. A write the API server refuses (422), which no retry changes, parks
   * the runbook with the server's reason: keeping the engine's stages when the server takes them,
   * the stored ones otherwise.
   */
  private async act(observed: Observed, { decision, tookSlot }: Decided): Promise<ReconcileResult> {
    const { key, runbook, input, log } = observed;
    const write = (next: Decision) => this.writer.write(runbook, next, input.now, log);
    await turnOfTheEventLoop();
    try {
      await write(decision);
      return decision.requeueAfterMs === undefined ? {} : { requeueAfterMs: decision.requeueAfterMs };
    } catch (error) {
      if (tookSlot) this.deps.slots?.release(key);
      if (!(error instanceof Refused)) throw error;
      log.error('write refused by the API server', { reason: error.reason, error: error.message });
      try {
        await write(park(input, error.reason, error.message, decision.status, decision.store));
      } catch (again) {
        if (!(again instanceof Refused)) throw again;
        await write(park(input, error.reason, error.message));
      }
      return {};
    }
  }

  /** The runbook's children, how deep it is nested, and the specs of its namespace a child may copy. */
  private childrenOf(
    runbook: CachedRunbook,
    children: NonNullable<ReconcilerDeps['children']>,
  ): Pick<EngineInput, 'children' | 'depth' | 'runbookSpec'> {
    const { uid, namespace } = runbook.metadata;
    return {
      children: children.observe(uid),
      depth: children.depth(runbook),
      runbookSpec: (name) => children.spec(namespace, name),
    };
  }

  /**
   * The revision of the runbook's spec. A failure to write it (an API error, missing RBAC) is
   * logged and leaves the stored one: the run goes on, and the next reconcile tries again.
   */
  private async revisionOf(runbook: CachedRunbook, log: Logger): Promise<RevisionStatus | undefined> {
    if (!this.deps.revisions) return undefined;
    try {
      return await this.deps.revisions.record(runbook);
    } catch (error) {
      log.error('recording the revision failed', { error: (error as Error).message });
      return runbook.status?.revision;
    }
  }
}
