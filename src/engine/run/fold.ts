/**
 * Folding Jobs into stages: a finished Job's outcome (its agent's report, its usage, its outputs)
 * becomes its stage's status: Succeeded, Retrying at a time the retry policy gives, or Failed. A
 * Job still running says whether the scheduler cannot place it.
 */
import type { StageStatusV2 } from '../../api/v2/runbook.js';
import { addMicros, formatMicros, parseMicros } from '../../api/grammar.js';
import { MAX_OUTPUT_BYTES } from '../../api/agent-contract.js';
import type { ErrorClass, Resources } from '../stage/agent-report.js';
import { addTokens, isCapped, overGrant, type Grant } from '../stage/budget.js';
import { retryPolicy } from '../stage/retry.js';
import { stageOutcome, type Failure, type StageOutcome } from '../stage/stage-outcome.js';
import { splitOutputs, storedOutputsName } from '../spec/stored-outputs.js';
import { ITEM_OUTPUT_BYTES, listOutputs } from '../spec/for-each.js';
import { timestamp } from '../model/conditions.js';
import type { JobObservation } from '../model/types.js';
import type { RunStage } from '../spec/workflow-stages.js';
import { keyOf, noteMiss, storeResult } from './result-cache.js';
import { isTerminalStage, type Run } from './run.js';

/** How long a finished Job may wait for its Pod's termination message to reach the cache. */
export const POD_REPORT_GRACE_MS = 30_000;

/**
 * Whether a Job's result is still to be folded into its stage: a newer attempt than the status
 * knows (the status lags behind the Jobs), or the attempt the stage runs.
 */
export function awaitsFold(stage: StageStatusV2 | undefined, job: JobObservation): boolean {
  if (!stage) return true;
  if (isTerminalStage(stage)) return false;
  const attempt = stage.attempt ?? 0;
  return job.attempt > attempt || (job.attempt === attempt && stage.phase === 'Running');
}

/** Folds the Jobs of this execution into the stages' statuses. */
export function foldJobs(run: Run): void {
  const latest = new Map<string, JobObservation>();
  for (const job of run.input.jobs) {
    if (job.execution !== run.execution) continue;
    const seen = latest.get(job.stage);
    if (!seen || job.attempt > seen.attempt) latest.set(job.stage, job);
  }
  for (const [name, stage] of run.stages) {
    const spec = run.specStages.get(name);
    const job = latest.get(name);
    if (!spec || !job || !awaitsFold(stage, job)) continue;
    if (job.attempt > (stage.attempt ?? 0)) adopt(run, stage, spec, job);
    if (job.state === 'active') {
      noteUnschedulable(run, stage, spec, job);
      continue;
    }
    if (!job.podTerminated && job.failureReason !== 'DeadlineExceeded') {
      const finishedAt = Date.parse(job.completionTime ?? '') || run.now.getTime();
      const waited = run.now.getTime() - finishedAt;
      if (waited < POD_REPORT_GRACE_MS) {
        run.requeueAfter(POD_REPORT_GRACE_MS - waited);
        continue;
      }
    }
    foldJob(run, stage, spec, job);
  }
}

/**
 * A Job of a newer attempt than the status records: the status write that went with it failed (or
 * the operator stopped in between), or this view of the status is older than the Job. The stage
 * runs it as starting it would have: its grant from the Job, its cache key as a miss.
 */
function adopt(run: Run, stage: StageStatusV2, spec: RunStage, job: JobObservation): void {
  Object.assign(stage, {
    phase: 'Running',
    attempt: job.attempt,
    job: job.name,
    reason: 'Started',
    message: `attempt ${job.attempt} running as Job ${job.name}`,
  });
  delete stage.nextAttemptTime;
  if (job.grant) stage.grant = job.grant;
  else delete stage.grant;
  noteMiss(stage, keyOf(run, spec, job.attempt));
  stage.startTime ??= job.startTime ?? timestamp(run.now);
}

/**
 * A running stage whose Pod the scheduler cannot place says so, and why: the stage's own
 * deadline still bounds the wait. Once placed it says it runs again.
 */
function noteUnschedulable(run: Run, stage: StageStatusV2, spec: RunStage, job: JobObservation): void {
  if (job.unschedulable === undefined) {
    if (stage.reason !== 'Unschedulable') return;
    stage.reason = 'Started';
    stage.message = `attempt ${job.attempt} running as Job ${job.name}`;
    return;
  }
  const shared = (spec.workspaces ?? []).filter((binding) => run.colocated.workspaces.has(binding.name));
  const where = shared.length
    ? ` It must run ${run.colocated.node ? `on node ${run.colocated.node}` : 'on one node'} with the other stages that share workspace ${shared.map((binding) => binding.name).join(', ')} (ReadWriteOnce).`
    : '';
  const message = `attempt ${job.attempt} (Job ${job.name}) waits for a node: ${job.unschedulable.replace(/\.+$/, '')}.${where}`;
  if (stage.reason !== 'Unschedulable') {
    run.event('Warning', 'StageUnschedulable', `stage ${stage.name}: ${message}`);
  }
  stage.reason = 'Unschedulable';
  stage.message = message.slice(0, 4096);
}

/** Adds an attempt's usage to its stage's; resolves whether a figure has just saturated. */
export function addUsage(stage: StageStatusV2, tokens: number, costMicros: number): boolean {
  const before = stage.usage ?? {};
  const sum = {
    tokens: addTokens(before.tokens ?? 0, tokens),
    costMicros: addMicros(parseMicros(before.costUSD ?? '0'), costMicros),
  };
  const capped = isCapped(sum) || isCapped({ tokens, costMicros });
  stage.usage = {
    tokens: sum.tokens,
    costUSD: formatMicros(sum.costMicros),
    ...(capped || before.capped ? { capped: true } : {}),
  };
  return capped && !before.capped;
}

/** Peak memory is the most of any attempt; CPU time adds up over attempts. */
export function addResources(stage: StageStatusV2, reported: Resources | undefined): void {
  if (!reported) return;
  const before = stage.resources ?? {};
  const memory = Math.max(before.memoryPeakBytes ?? 0, reported.memoryPeakBytes ?? 0);
  const cpu = (before.cpuSeconds ?? 0) + (reported.cpuSeconds ?? 0);
  stage.resources = {
    ...(memory ? { memoryPeakBytes: memory } : {}),
    ...(cpu ? { cpuSeconds: Math.round(cpu * 1000) / 1000 } : {}),
  };
}

/** Whether a validation agent's report holds a critical finding. */
export function hasCriticalFinding(outputs: Record<string, unknown>): boolean {
  const findings = Array.isArray(outputs.findings) ? (outputs.findings as unknown[]) : [];
  const critical = findings.some(
    (finding) =>
      typeof finding === 'object' &&
      finding !== null &&
      String((finding as { severity?: unknown }).severity).toLowerCase() === 'critical',
  );
  return critical || (typeof outputs.critical === 'number' && outputs.critical > 0);
}

/** A report above the attempt's grant fails the stage, whatever the agent says; its usage still counts. */
function withinGrant(outcome: StageOutcome, grant: Grant | undefined, attempt: number): StageOutcome {
  const over = overGrant(grant, outcome.tokens, outcome.costMicros);
  if (!over) return outcome;
  return {
    kind: 'failed',
    reason: 'AgentBudgetExceeded',
    message: `attempt ${attempt} ${over}`,
    errorClass: 'QUOTA_EXCEEDED',
    retryable: false,
    tokens: outcome.tokens,
    costMicros: outcome.costMicros,
    ...(outcome.resources ? { resources: outcome.resources } : {}),
  };
}

/** An item's outputs are gathered into its stage's lists: larger ones fail it, and are not kept. */
function withinItemBound(outcome: StageOutcome, spec: RunStage): StageOutcome {
  if (!spec.item || outcome.kind !== 'succeeded') return outcome;
  const bytes = [...outcome.encoded.values()].reduce((sum, json) => sum + Buffer.byteLength(json), 0);
  if (bytes <= ITEM_OUTPUT_BYTES) return outcome;
  return {
    kind: 'failed',
    reason: 'OutputsTooLarge',
    message: `item ${spec.item.index} reported ${bytes} bytes of outputs as JSON, over the ${ITEM_OUTPUT_BYTES} a forEach item may: its outputs are gathered into the stage's lists; write large results to a workspace and report where`,
    errorClass: 'VALIDATION_ERROR',
    retryable: false,
    tokens: outcome.tokens,
    costMicros: outcome.costMicros,
    ...(outcome.resources ? { resources: outcome.resources } : {}),
  };
}

/** Keeps a stage's outputs: small ones in its status, the others in a ConfigMap it refers to; returns the latter's data. */
function keepOutputs(
  run: Run,
  stage: StageStatusV2,
  job: JobObservation,
  outcome: Extract<StageOutcome, { kind: 'succeeded' }>,
): Record<string, string> | undefined {
  // An item's outputs join its forEach stage's lists, which fan-out.ts bounds: none is stored apart.
  if (run.specStages.get(stage.name)?.item) {
    stage.outputs = outcome.outputs;
    delete stage.outputRefs;
    return undefined;
  }
  const split = splitOutputs(
    outcome.outputs,
    outcome.encoded,
    { name: storedOutputsName(job.name), stage: stage.name, execution: run.execution },
    listOutputs(run.specStages.values(), stage.name),
  );
  stage.outputs = split.inline;
  if (split.refs) stage.outputRefs = split.refs;
  else delete stage.outputRefs;
  if (split.store) run.store.push(split.store);
  return split.store?.data;
}

/** Counts a failure towards the emergency and fallback triggers of its class. */
function countTrigger(run: Run, stage: StageStatusV2, spec: RunStage, errorClass: ErrorClass): void {
  const { workflows } = run.spec;
  if (workflows?.emergency?.trigger.conditions.includes(errorClass) && spec.workflow !== 'emergency') {
    run.emergency = { stage: stage.name, errorClass };
    run.newEmergencyTriggers += 1;
  }
  if (spec.workflow === 'main' && workflows?.fallback?.trigger.conditions.includes(errorClass)) {
    run.newFallbackTriggers += 1;
  }
}

function foldJob(run: Run, stage: StageStatusV2, spec: RunStage, job: JobObservation): void {
  const maxOutputBytes = run.input.maxOutputBytes ?? MAX_OUTPUT_BYTES;
  const outcome = withinItemBound(
    withinGrant(stageOutcome(job, spec, maxOutputBytes), stage.grant, job.attempt),
    spec,
  );
  if (addUsage(stage, outcome.tokens, outcome.costMicros)) {
    run.event(
      'Warning',
      'UsageCapped',
      `stage ${stage.name} reported usage beyond what the status can hold (${outcome.tokens} tokens, $${formatMicros(outcome.costMicros)} as read): it is kept at the most, and marked capped`,
    );
  }
  addResources(stage, outcome.resources);
  if (outcome.kind === 'succeeded') {
    const stored = keepOutputs(run, stage, job, outcome);
    const failsOnCritical =
      spec.workflow === 'validation' && spec.config?.parameters?.failOnCritical === true;
    if (failsOnCritical && hasCriticalFinding(outcome.outputs)) {
      const message = `${spec.agent ?? spec.name} reported a critical finding`;
      run.finishStage(stage, 'Failed', 'ValidationFailed', message);
      run.event('Warning', 'ValidationFailed', `stage ${stage.name}: ${message}`);
      return;
    }
    // An item keeps the class of its failed attempts for its forEach stage's tally (fan-out.ts).
    if (!spec.item) delete stage.lastError;
    run.finishStage(stage, 'Succeeded', 'Succeeded', `attempt ${job.attempt} succeeded`);
    storeResult(run, stage, spec, job, outcome, stored);
    return;
  }
  failOrRetry(run, stage, spec, outcome, job);
}

/**
 * A failed attempt (a Job's, or a child runbook's): the stage retries when the retry policy lets
 * it, at the time the backoff gives, or fails. Either way it counts towards the workflow triggers.
 */
export function failOrRetry(
  run: Run,
  stage: StageStatusV2,
  spec: RunStage,
  outcome: Failure,
  attempt: { attempt: number; name: string; completionTime?: string },
): void {
  stage.lastError = outcome.errorClass;
  countTrigger(run, stage, spec, outcome.errorClass);
  const policy = retryPolicy(run.spec, spec);
  if (outcome.retryable && policy.retries(outcome.errorClass) && attempt.attempt <= policy.maxRetries) {
    const failedAt = Date.parse(attempt.completionTime ?? '') || run.now.getTime();
    const next = new Date(failedAt + policy.delayMs(attempt.attempt, attempt.name));
    stage.phase = 'Retrying';
    stage.reason = outcome.reason;
    stage.nextAttemptTime = next.toISOString();
    stage.message = `${outcome.message}; retry ${attempt.attempt} of ${policy.maxRetries} at ${stage.nextAttemptTime}`;
    run.event('Warning', 'StageRetrying', `stage ${stage.name}: ${stage.message}`);
    return;
  }
  run.finishStage(stage, 'Failed', outcome.reason, outcome.message);
  run.event('Warning', 'StageFailed', `stage ${stage.name} failed (${outcome.reason}): ${outcome.message}`);
}
