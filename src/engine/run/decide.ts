/**
 * The engine's entry point: from the runbook, the Jobs observed for it and the time, decide the
 * Jobs to create and delete, the new status, the Events to record and when to look again.
 * Pure: no I/O, no clock, no randomness. The controller writes the status first and then creates
 * the Jobs, so a restart between the two finds the attempt recorded and creates the same Job.
 *
 * One reconcile, in named steps: `begin` finds the run (a new one waits in the queue if over a
 * concurrency limit); `advance` folds the finished Jobs into their stages (fold.ts), lets the
 * emergency or fallback workflow take over (workflows.ts), asks the ending policies in order
 * (policies.ts), and if none ends the run starts what is ready (schedule.ts); `summarize` builds
 * the status; `conclude` adds the run's Events, notifications, the Jobs of finished runs that
 * spec.history no longer keeps, and when to look again.
 */
import { cloneJson } from '../../api/json.js';
import { ANNOTATION_RETRY } from '../../api/labels.js';
import type { StatusV2 } from '../../api/v2/runbook.js';
import { timestamp } from '../model/conditions.js';
import type { Decision, EngineInput, JobObservation, Notification, RunbookObject } from '../model/types.js';
import { effectiveSpec } from '../spec/effective.js';
import { mainStages, validationStages } from '../spec/workflow-stages.js';
import { nextClock, runTime } from '../stage/deadlines.js';
import { claimsToKeep, workspaceStatus } from '../stage/workspaces.js';
import { ALERT_INTERVAL_MS, evaluateAlerts } from './alerts.js';
import { executionMetrics } from './execution-metrics.js';
import { awaitsFold, foldJobs } from './fold.js';
import { evaluateGates, NO_GATES, type GateOutcome } from './gate-state.js';
import { pruneHistory } from './job-retention.js';
import { newNotices } from './notices.js';
import {
  abortedStage,
  budgetSpent,
  cancelled,
  emergencyFinished,
  firstEnding,
  invalidGraph,
  pastDeadline,
} from './policies.js';
import { leftQueue, queuedDecision } from './queue.js';
import { Run } from './run.js';
import { recreateUnobserved, skipBlocked, startReady } from './schedule.js';
import { stepNotifications } from './step-notifications.js';
import { skipByCondition } from './when.js';
import { fanOut, restoreItems } from './fan-out.js';
import { cancelReplacedChildren, foldChildren } from './child-runbooks.js';
import { parseItemName } from '../spec/for-each.js';
import { buildStatus, runEvents, TERMINAL_RUN, type Ending } from './summary.js';
import { advanceWorkflow, considerFallback, startEmergency, stopAll } from './workflows.js';
import { currentExecution, keptOutputStores, keptStages } from './retry-run.js';

export { POD_REPORT_GRACE_MS } from './fold.js';

/** How long after a run ends it is looked at again, for spec.history (its status write lands first). */
const AFTER_FINISH_MS = 1000;

/** Where a reconcile starts from: the run it works on and the status that run had. */
interface Start {
  /** The runbook with its effective spec (environment and overlays applied). */
  runbook: RunbookObject;
  execution: string;
  /** The status as stored. */
  previous: StatusV2 | undefined;
  /** The stored status of this run; empty for a run that starts now. */
  before: StatusV2;
  fresh: boolean;
  /** Jobs of other runs still active (a spec change or a rerun replaced their run). */
  deletes: Decision['delete'];
}

/** What `advance` decided: the ending, if the run ends now, and what the gates and workflows said. */
interface Progress {
  ending: Ending | undefined;
  gates: GateOutcome;
  notifications: Notification[];
  time: ReturnType<typeof runTime>;
}

/** A new run's status: every stage pending, but those a retry keeps from the run it retries. */
function freshStatus(runbook: RunbookObject, execution: string, now: Date): StatusV2 {
  const kept = keptStages(runbook, execution);
  return {
    observedGeneration: runbook.metadata.generation,
    execution,
    phase: 'Pending',
    startTime: timestamp(now),
    stages: [...mainStages(runbook.spec), ...validationStages(runbook.spec)].map(
      (stage) =>
        kept.get(stage.name) ?? {
          name: stage.name,
          workflow: stage.workflow,
          phase: 'Pending' as const,
        },
    ),
    workflow: { active: 'main', fallbackTriggers: 0 },
    conditions: [],
  };
}

/**
 * Whether a finished Job's report can still change the run: it belongs to the current run and the
 * engine would fold it into its stage. The controller reads a report from the agent's log only
 * then, so the large reports of past runs and folded attempts are not read on every reconcile.
 */
export function awaitsOutcome(runbook: RunbookObject, job: JobObservation): boolean {
  const execution = currentExecution(runbook);
  if (job.execution !== execution) return false;
  const stages = runbook.status?.execution === execution ? (runbook.status.stages ?? []) : [];
  const stage = stages.find((entry) => entry.name === job.stage);
  // An item without an entry has been folded into its forEach stage (or the status lags): not now.
  if (!stage && parseItemName(job.stage)) return false;
  return awaitsFold(stage, job);
}

function begin(input: EngineInput): Start {
  const runbook: RunbookObject = { ...input.runbook, spec: effectiveSpec(input.runbook.spec) };
  const previous = runbook.status;
  // Cancelling changes the spec (and so the generation) but stops the run it cancels.
  const execution = currentExecution(runbook);
  // A queued run has not started: it starts afresh once it has a slot.
  const before: StatusV2 = previous?.execution === execution && previous.phase !== 'Queued' ? previous : {};
  const deletes = input.jobs
    .filter((job) => job.execution !== execution && job.state === 'active')
    .map((job) => ({
      name: job.name,
      reason: job.generation !== runbook.metadata.generation ? ('SpecChanged' as const) : ('Rerun' as const),
    }));
  return { runbook, execution, previous, before, fresh: before !== previous, deletes };
}

/** The run this reconcile moves: the stored status of its execution, or a fresh one. */
function openRun(input: EngineInput, start: Start): Run {
  const { runbook, execution, previous, fresh } = start;
  const { spec } = runbook;
  const { generation } = runbook.metadata;
  const status: StatusV2 = fresh ? freshStatus(runbook, execution, input.now) : cloneJson(start.before);
  if (previous?.phase === 'Queued')
    status.conditions = leftQueue(previous, input.now, generation, spec.status === 'Cancelled');
  status.observedGeneration = generation;
  status.effective = {
    ...(spec.environment ? { environment: spec.environment } : {}),
    execution: spec.execution ?? {},
    budgets: spec.budgets ?? {},
  };
  const run = new Run({ ...input, runbook }, execution, status);
  if (fresh && spec.status !== 'Cancelled') run.event('Normal', 'RunStarted', startedMessage(runbook, run));
  return run;
}

function startedMessage(runbook: RunbookObject, run: Run): string {
  const { execution, status } = run;
  const retried = runbook.metadata.annotations?.[ANNOTATION_RETRY];
  const started = `started run ${execution} of generation ${runbook.metadata.generation}`;
  if (!retried || !runbook.status || runbook.status.execution === execution) return started;
  const kept = (status.stages ?? [])
    .filter((stage) => stage.phase === 'Succeeded')
    .map((stage) => stage.name);
  return `${started}, retrying run ${retried}: ${kept.length ? `kept stage${kept.length > 1 ? 's' : ''} ${kept.join(', ')}` : 'no stage had succeeded'}`;
}

/** A run that had already finished: only the Jobs and claims spec.history no longer keeps go. */
function finishedDecision(run: Run, start: Start): Decision {
  const { jobs, catalog, now } = run.input;
  const { execution, status } = run;
  const pruning = pruneHistory(run.spec, catalog, jobs, { execution, status, final: true }, now.getTime());
  const deleted = [...start.deletes, ...pruning.delete];
  const keepClaims = claimsToKeep(jobs, deleted, execution);
  return {
    status,
    create: [],
    delete: deleted,
    ...(keepClaims ? { pruneClaims: keepClaims } : {}),
    events: run.events,
    notifications: [],
    ...(pruning.requeueAfterMs === undefined ? {} : { requeueAfterMs: pruning.requeueAfterMs }),
  };
}

/** Moves the run: folds, switches workflows, asks the ending policies, starts what is ready. */
function advance(run: Run): Progress {
  foldJobs(run);
  foldChildren(run);
  cancelReplacedChildren(run);
  const time = runTime(run.spec, run.status, run.now);
  let notifications: Notification[] = [];
  let gates = NO_GATES;
  let ending = firstEnding(run, [cancelled, invalidGraph]);
  if (!ending) {
    notifications = startEmergency(run);
    considerFallback(run);
    ending = firstEnding(run, [emergencyFinished, pastDeadline(time), budgetSpent]);
  }
  if (!ending) {
    // A stage its `when` skips needs no approval: decided before the gates are.
    skipByCondition(run);
    gates = evaluateGates(run);
    run.events.push(...gates.events);
    ending = gates.ending
      ? { phase: 'Failed', condition: 'Failed', ...gates.ending }
      : firstEnding(run, [abortedStage]);
  }
  if (!ending) {
    const runRemainingMs = time && time.limitMs - time.usedMs;
    recreateUnobserved(run, runRemainingMs);
    const limits = { held: gates.held, startBlocked: gates.startBlocked, runRemainingMs };
    while (
      !ending &&
      (advanceWorkflow(run) ||
        skipBlocked(run) ||
        skipByCondition(run) ||
        fanOut(run, limits) ||
        startReady(run, limits))
    )
      ending = firstEnding(run, [emergencyFinished, abortedStage]);
  }
  if (ending) stopAll(run, ending.message);
  return { ending, gates, notifications, time };
}

/** The new status: stages and phase, gates, the run's clock, metrics, workspaces, alerts. */
function summarize(
  run: Run,
  start: Start,
  progress: Progress,
): { status: StatusV2; alertEvents: Decision['events'] } {
  const { ending, gates } = progress;
  const { runbook, execution, before } = start;
  const { now } = run;
  const next = buildStatus(run, ending, ending ? [] : gates.waiting);
  // The clock stops exactly while the run shows it waits at a gate.
  const paused = next.phase === 'WaitingForApproval';
  if (gates.statuses.length) next.gates = gates.statuses;
  const clock = nextClock(run.spec, run.status, now, paused);
  if (clock) next.clock = clock;
  else delete next.clock;
  next.metrics = executionMetrics(next);
  const workspaces = workspaceStatus(
    { runbook, execution },
    [...run.specStages.values()],
    run.colocated.workspaces,
    run.colocated.node,
  );
  if (workspaces) next.workspaces = workspaces;
  else delete next.workspaces;
  const alerting = evaluateAlerts(run.spec, before, next, now, runbook.metadata.generation);
  if (alerting.alerts.length) next.alerts = alerting.alerts;
  else delete next.alerts;
  next.conditions = alerting.conditions;
  return { status: next, alertEvents: alerting.events };
}

/** When to look at the runbook again: the soonest of what the run waits for. */
function nextLook(run: Run, progress: Progress, next: StatusV2, pruningMs: number | undefined) {
  const { ending, gates, time } = progress;
  const endedNow = TERMINAL_RUN.has(next.phase ?? '');
  const paused = next.phase === 'WaitingForApproval';
  const waits = [
    endedNow ? AFTER_FINISH_MS : undefined,
    ...(ending
      ? []
      : [
          run.requeueAfterMs,
          gates.requeueAfterMs,
          time && !paused ? Math.max(1, time.limitMs - time.usedMs) : undefined,
          run.spec.monitoring?.alerts?.length && !endedNow ? ALERT_INTERVAL_MS : undefined,
        ]),
    pruningMs,
  ].filter((ms): ms is number => ms !== undefined);
  return waits.length ? { requeueAfterMs: Math.min(...waits) } : {};
}

/** The decision: the status, the Jobs and objects to write and delete, Events, notifications. */
function conclude(run: Run, start: Start, progress: Progress): Decision {
  const { runbook, execution, before, previous, fresh } = start;
  const { jobs, catalog, now } = run.input;
  const { status: next, alertEvents } = summarize(run, start, progress);
  const notices = newNotices(runbook, next, now);
  // Past runs only: this run's Jobs go once a stored status says it finished, so a run that
  // ends now is looked at again (status writes alone do not bring a runbook back to the queue).
  const pruning = pruneHistory(run.spec, catalog, jobs, { execution, final: false }, now.getTime());
  const told = stepNotifications(runbook, before, next);
  const deleted = [...start.deletes, ...run.deletes, ...pruning.delete];
  const keepClaims = claimsToKeep(jobs, deleted, execution);
  return {
    status: next,
    create: run.create,
    ...(run.children.length ? { children: run.children } : {}),
    ...(run.cancelChildren.length ? { cancelChildren: run.cancelChildren } : {}),
    ...(run.store.length ? { store: run.store } : {}),
    ...(run.cacheStores.length ? { cacheStores: run.cacheStores } : {}),
    // The run before kept outputs in ConfigMaps: the status that named them is replaced now,
    // but for those of the stages a retry keeps.
    ...(fresh && previous?.stages?.some((stage) => stage.outputRefs)
      ? { pruneStoredOutputs: { keepExecution: execution, keep: keptOutputStores(next.stages ?? []) } }
      : {}),
    delete: deleted,
    ...(keepClaims ? { pruneClaims: keepClaims } : {}),
    events: [
      ...run.events,
      ...runEvents(before, next, progress.ending),
      ...alertEvents,
      ...told.map((notification) => ({
        type: 'Normal' as const,
        reason: 'StepNotification' as const,
        message: `notifying ${notification.target}: ${notification.message}`,
      })),
    ],
    notifications: [...progress.notifications, ...told],
    ...(notices.length ? { notices } : {}),
    ...nextLook(run, progress, next, pruning.requeueAfterMs),
  };
}

export function decide(input: EngineInput): Decision {
  const start = begin(input);
  const { runbook, execution, fresh, deletes } = start;
  if (fresh && runbook.spec.status !== 'Cancelled' && input.slot && !input.slot.granted) {
    return queuedDecision(
      runbook,
      freshStatus(runbook, execution, input.now),
      input.slot,
      deletes,
      input.now,
    );
  }
  const run = openRun(input, start);
  if (TERMINAL_RUN.has(run.status.phase ?? '')) return finishedDecision(run, start);
  restoreItems(run);
  return conclude(run, start, advance(run));
}
