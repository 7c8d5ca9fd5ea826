/**
 * The engine's entry point: from the runbook, the Jobs observed for it and the time, decide the
 * Jobs to create and delete, the new status, the Events to record and when to look again.
 * Pure: no I/O, no clock, no randomness. The controller writes the status first and then creates
 * the Jobs, so a restart between the two finds the attempt recorded and creates the same Job.
 *
 * One reconcile: fold the finished Jobs into their stages; let the emergency or fallback workflow
 * take over; ask the ending policies (policies.ts) in order; if none ends the run, start what is
 * ready; build the status and the run's Events; remove the Jobs of finished runs that
 * spec.history no longer keeps.
 */
import { ANNOTATION_RERUN } from '../../api/labels.js';
import type { StatusV2 } from '../../api/v2/runbook.js';
import { ALERT_INTERVAL_MS, evaluateAlerts } from './alerts.js';
import { setCondition, timestamp } from '../model/conditions.js';
import type { Waiting } from './concurrency.js';
import { executionMetrics } from './execution-metrics.js';
import { nextClock, runTime } from '../stage/deadlines.js';
import { effectiveSpec } from '../spec/effective.js';
import { evaluateGates, NO_GATES, type GateOutcome } from './gate-state.js';
import { pruneHistory } from './job-retention.js';
import { executionId } from '../model/naming.js';
import {
  abortedStage,
  budgetSpent,
  cancelled,
  emergencyFinished,
  firstEnding,
  invalidGraph,
  pastDeadline,
  type Policy,
} from './policies.js';
import { awaitsFold, Run } from './run-state.js';
import { buildStatus, runEvents, TERMINAL_RUN } from './summary.js';
import type { Decision, EngineInput, JobObservation, Notification, RunbookObject } from '../model/types.js';
import { mainStages, validationStages } from '../spec/workflow-stages.js';
import { claimsToKeep, workspaceStatus } from '../stage/workspaces.js';
import { stepNotifications } from './step-notifications.js';
import { newNotices } from './notices.js';

export { POD_REPORT_GRACE_MS } from './run-state.js';

/** How long after a run ends it is looked at again, for spec.history (its status write lands first). */
const AFTER_FINISH_MS = 1000;

function freshStatus(runbook: RunbookObject, execution: string, now: Date): StatusV2 {
  return {
    observedGeneration: runbook.metadata.generation,
    execution,
    phase: 'Pending',
    startTime: timestamp(now),
    stages: [...mainStages(runbook.spec), ...validationStages(runbook.spec)].map((stage) => ({
      name: stage.name,
      workflow: stage.workflow,
      phase: 'Pending' as const,
    })),
    workflow: { active: 'main', fallbackTriggers: 0 },
    conditions: [],
  };
}

/** How often a queued run is looked at again when no runbook ending brings it back sooner. */
const QUEUED_RECHECK_MS = 30_000;

/**
 * A run over a concurrency limit waits: phase Queued, its place and what it waits for in its
 * Queued condition, no start time (its clock does not run) and no Job.
 */
function queuedDecision(
  runbook: RunbookObject,
  execution: string,
  slot: Waiting,
  deletes: Decision['delete'],
  now: Date,
): Decision {
  const { generation } = runbook.metadata;
  const previous = runbook.status;
  const wasQueued = previous?.phase === 'Queued';
  let conditions = setCondition(
    wasQueued ? (previous.conditions ?? []) : [],
    { type: 'Queued', status: 'True', reason: 'WaitingForSlot', message: slot.message },
    now,
    generation,
  );
  conditions = setCondition(
    conditions,
    { type: 'Ready', status: 'False', reason: 'Queued', message: slot.message },
    now,
    generation,
  );
  const status = { ...freshStatus(runbook, execution, now), phase: 'Queued' as const, conditions };
  delete status.startTime;
  return {
    status,
    create: [],
    delete: deletes,
    events: wasQueued ? [] : [{ type: 'Normal', reason: 'Queued', message: slot.message }],
    notifications: [],
    requeueAfterMs: QUEUED_RECHECK_MS,
  };
}

/** The conditions of a run that leaves the queue (started, or cancelled while it waited). */
function leftQueue(previous: StatusV2, now: Date, generation: number, cancelled: boolean) {
  const since = previous.conditions?.find((condition) => condition.type === 'Queued')?.lastTransitionTime;
  const waited = since ? ` after waiting for a slot since ${since}` : '';
  return setCondition(
    [],
    {
      type: 'Queued',
      status: 'False',
      reason: cancelled ? 'Cancelled' : 'Started',
      message: `${cancelled ? 'cancelled' : 'started'}${waited}`,
    },
    now,
    generation,
  );
}

/** The execution a runbook's next reconcile works on: a cancel keeps the run it stops. */
function currentExecution(runbook: RunbookObject): string {
  const { generation, annotations } = runbook.metadata;
  return runbook.spec.status === 'Cancelled' && runbook.status?.execution
    ? runbook.status.execution
    : executionId(generation, annotations?.[ANNOTATION_RERUN]);
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
  return awaitsFold(
    stages.find((stage) => stage.name === job.stage),
    job,
  );
}

export function decide(input: EngineInput): Decision {
  const { jobs, now } = input;
  const spec = effectiveSpec(input.runbook.spec);
  const runbook: RunbookObject = { ...input.runbook, spec };
  const { generation } = runbook.metadata;
  const previous = runbook.status;
  // Cancelling changes the spec (and so the generation) but stops the run it cancels.
  const execution = currentExecution(runbook);
  // A queued run has not started: it starts afresh once it has a slot.
  const queued = previous?.phase === 'Queued';
  const before: StatusV2 = previous?.execution === execution && !queued ? previous : {};
  const fresh = before !== previous;
  const deletes = input.jobs
    .filter((job) => job.execution !== execution && job.state === 'active')
    .map((job) => ({ name: job.name, reason: job.generation !== generation ? 'SpecChanged' : 'Rerun' }));
  if (fresh && spec.status !== 'Cancelled' && input.slot && !input.slot.granted) {
    return queuedDecision(runbook, execution, input.slot, deletes, now);
  }
  const status: StatusV2 = fresh ? freshStatus(runbook, execution, now) : structuredClone(before);
  if (queued) status.conditions = leftQueue(previous, now, generation, spec.status === 'Cancelled');
  status.observedGeneration = generation;
  status.effective = {
    ...(spec.environment ? { environment: spec.environment } : {}),
    execution: spec.execution ?? {},
    budgets: spec.budgets ?? {},
  };
  const run = new Run({ ...input, runbook }, execution, status);
  if (fresh && spec.status !== 'Cancelled')
    run.event('Normal', 'RunStarted', `started run ${execution} of generation ${generation}`);
  if (TERMINAL_RUN.has(status.phase ?? '')) {
    const pruning = pruneHistory(
      spec,
      input.catalog,
      jobs,
      { execution, status, final: true },
      now.getTime(),
    );
    const deleted = [...deletes, ...pruning.delete];
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

  run.observeJobs();
  let notifications: Notification[] = [];
  let gates: GateOutcome = NO_GATES;
  let gateEventsAt = 0;
  const time = runTime(spec, status, now);
  const gatePolicy: Policy = (current) => {
    gates = evaluateGates(current);
    gateEventsAt = current.events.length;
    return gates.ending && { phase: 'Failed', condition: 'Failed', ...gates.ending };
  };
  let ending = firstEnding(run, [cancelled, invalidGraph]);
  if (!ending) {
    notifications = run.startEmergency();
    run.considerFallback();
    ending = firstEnding(run, [emergencyFinished, pastDeadline(time), budgetSpent, gatePolicy, abortedStage]);
  }
  if (!ending) {
    const runRemainingMs = time && time.limitMs - time.usedMs;
    run.recreateUnobserved(runRemainingMs);
    const limits = { held: gates.held, startBlocked: gates.startBlocked, runRemainingMs };
    while (!ending && (run.advanceWorkflow() || run.skipBlocked() || run.startReady(limits)))
      ending = firstEnding(run, [emergencyFinished, abortedStage]);
  }
  const waiting = ending ? [] : gates.waiting;
  if (ending) run.stopAll(ending.message);
  const next = buildStatus(run, ending, waiting);
  // The clock stops exactly while the run shows it waits at a gate.
  const paused = next.phase === 'WaitingForApproval';
  if (gates.statuses.length) next.gates = gates.statuses;
  const clock = nextClock(spec, status, now, paused);
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
  const alerting = evaluateAlerts(spec, before, next, now, generation);
  if (alerting.alerts.length) next.alerts = alerting.alerts;
  else delete next.alerts;
  next.conditions = alerting.conditions;
  const notices = newNotices(runbook, next, now);

  const events = [
    ...run.events.slice(0, gateEventsAt),
    ...gates.events,
    ...run.events.slice(gateEventsAt),
    ...runEvents(before, next, ending),
    ...alerting.events,
  ];
  // Past runs only: this run's Jobs go once a stored status says it finished, so a run that
  // ends now is looked at again (status writes alone do not bring a runbook back to the queue).
  const pruning = pruneHistory(spec, input.catalog, jobs, { execution, final: false }, now.getTime());
  const endedNow = TERMINAL_RUN.has(next.phase ?? '');
  const told = stepNotifications(runbook, before, next);
  const deleted = [...deletes, ...run.deletes, ...pruning.delete];
  const keepClaims = claimsToKeep(jobs, deleted, execution);
  const waits = [
    endedNow ? AFTER_FINISH_MS : undefined,
    ...(ending
      ? []
      : [
          run.requeueAfterMs,
          gates.requeueAfterMs,
          time && !paused ? Math.max(1, time.limitMs - time.usedMs) : undefined,
          spec.monitoring?.alerts?.length && !endedNow ? ALERT_INTERVAL_MS : undefined,
        ]),
    pruning.requeueAfterMs,
  ].filter((ms): ms is number => ms !== undefined);
  return {
    status: next,
    create: run.create,
    ...(run.store.length ? { store: run.store } : {}),
    // The run before kept outputs in ConfigMaps: the status that named them is replaced now.
    ...(fresh && previous?.stages?.some((stage) => stage.outputRefs)
      ? { pruneStoredOutputs: { keepExecution: execution } }
      : {}),
    delete: deleted,
    ...(keepClaims ? { pruneClaims: keepClaims } : {}),
    events: [
      ...events,
      ...told.map((notification) => ({
        type: 'Normal' as const,
        reason: 'StepNotification',
        message: `notifying ${notification.target}: ${notification.message}`,
      })),
    ],
    notifications: [...notifications, ...told],
    ...(notices.length ? { notices } : {}),
    ...(waits.length ? { requeueAfterMs: Math.min(...waits) } : {}),
  };
}
