/**
 * The engine as the controller calls it: no input, however hostile, and no bug of the engine
 * leaves a runbook stuck without a reason. A spec past the bounds, an exception, a status the
 * schema would refuse, a reconcile over its budget or a status write the API server refuses all
 * park the runbook: it ends Failed with a condition that names the cause, keeps every stage's
 * outputs and usage, and stays so until its spec changes or it is rerun.
 */
import type { ParkReason } from '../../api/reasons.js';
import { cloneJson, sameJson } from '../../api/json.js';
import { jsonShapeProblem } from '../../api/limits.js';
import { fitStatusToSchema, validateStatus } from '../../api/status-schema.js';
import type { StatusV2 } from '../../api/v2/runbook.js';
import { setCondition, timestamp } from '../model/conditions.js';
import { CHILD_ENDED } from './child-runbooks.js';
import { decide } from './decide.js';
import { jobMayRun } from './run.js';
import { currentExecution } from './retry-run.js';
import type { Decision, EngineInput, OutputStore } from '../model/types.js';
import { stageNameProblems } from '../spec/workflow-stages.js';
import { stamp, templateOutcome, unresolvedTemplate, withTemplateSpec } from './template-outcome.js';

const UNFINISHED = new Set(['Pending', 'Running', 'Retrying']);

/**
 * The decision that parks a runbook. `base` is the status to keep stages from: the engine's
 * newest when there is one, so outputs and usage it just folded in are not lost; `store` holds the
 * outputs that status keeps in ConfigMaps.
 */
export function park(
  input: EngineInput,
  reason: ParkReason,
  detail: string,
  base: StatusV2 | undefined = input.runbook.status,
  store: OutputStore[] = [],
): Decision {
  const { metadata } = input.runbook;
  const { now } = input;
  const execution = currentExecution(input.runbook);
  const prior: StatusV2 = base?.execution === execution ? cloneJson(base) : {};
  const message = `${detail}; the runbook is parked until its spec changes or it is rerun`;
  const already = prior.conditions?.some(
    (condition) => condition.type === 'Failed' && condition.reason === reason && condition.status === 'True',
  );
  let conditions = prior.conditions ?? [];
  for (const type of ['Failed', 'Ready', 'Progressing']) {
    const state = type === 'Failed' ? 'True' : 'False';
    conditions = setCondition(conditions, { type, status: state, reason, message }, now, metadata.generation);
  }
  const stages = (prior.stages ?? []).map((stage) =>
    UNFINISHED.has(stage.phase)
      ? { ...stage, phase: 'Failed' as const, reason, message: `stopped: ${detail}` }
      : stage,
  );
  const status: StatusV2 = {
    ...prior,
    observedGeneration: metadata.generation,
    execution,
    phase: 'Failed',
    startTime: prior.startTime ?? timestamp(now),
    completionTime: prior.completionTime ?? timestamp(now),
    stages,
    conditions,
  };
  return stampTemplate(input, {
    status: fitStatusToSchema(status),
    create: [],
    ...stopped(input),
    events: already ? [] : [{ type: 'Warning', reason, message }],
    notifications: [],
    ...(store.length && base?.execution === execution ? { store } : {}),
  });
}

/**
 * What a parked run stops: each Job and child runbook that may still run, whether seen running or
 * only recorded by a stage the stored status has unfinished (the reconcile that created it ran
 * before the cache saw it). Deleting or cancelling one that is gone is a 404, not an error.
 */
function stopped(input: EngineInput): Pick<Decision, 'delete' | 'cancelChildren'> {
  const unfinished = (input.runbook.status?.stages ?? []).filter((stage) => UNFINISHED.has(stage.phase));
  const candidates = new Set([
    ...input.jobs.map((job) => job.name),
    ...unfinished.flatMap(({ job }) => job ?? []),
  ]);
  const jobs = [...candidates].filter((name) => jobMayRun(input, name));
  const seenChildren = new Set((input.children ?? []).map((child) => child.name));
  const children = new Set(
    (input.children ?? []).filter((child) => !CHILD_ENDED.has(child.phase ?? '')).map((child) => child.name),
  );
  for (const { child } of unfinished) if (child && !seenChildren.has(child)) children.add(child);
  return {
    delete: jobs.map((name) => ({ name, reason: 'RunStopped' })),
    ...(children.size ? { cancelChildren: [...children] } : {}),
  };
}

/** A park names the template the runbook was made from, when it was resolved. */
function stampTemplate(input: EngineInput, decision: Decision): Decision {
  const outcome = templateOutcome(input);
  return stamp(input, decision, outcome && 'template' in outcome ? outcome.template : undefined);
}

/**
 * What was found wrong with each spec object, so a runbook reconciled again (the controller hands
 * the same cached object until it changes) is not walked again. Specs are never mutated.
 */
const specProblems = new WeakMap<object, string | null>();

/** What makes a spec impossible to run, found before anything walks it. */
function specProblem(input: EngineInput): string | undefined {
  const { spec } = input.runbook;
  const memo = typeof spec === 'object' && (spec as unknown) !== null;
  const known = memo ? specProblems.get(spec) : undefined;
  if (known !== undefined) return known ?? undefined;
  const shape = jsonShapeProblem(spec, ['spec']);
  const [collision] = shape ? [] : stageNameProblems(spec);
  const problem = shape
    ? `${shape.field} ${shape.message}`
    : collision
      ? `${collision.field} ${collision.message}`
      : undefined;
  if (memo) specProblems.set(spec, problem ?? null);
  return problem;
}

/**
 * The engine as the controller calls it: spec.template's outcome first (a runbook waits for its
 * template), then decide() on the spec the run uses, parked instead of thrown or written invalid
 * (see the module comment); the status names the template and the spec's revision.
 */
export function decideSafely(input: EngineInput): Decision {
  const outcome = templateOutcome(input);
  if (outcome && !('template' in outcome)) return unresolvedTemplate(input, outcome);
  const template = outcome?.template;
  const run = withTemplateSpec(input, template);
  const problem = specProblem(run);
  if (problem) return park(input, 'InvalidSpec', problem);
  let decision: Decision;
  try {
    decision = decide(run);
  } catch (error) {
    return park(input, 'InternalError', `the engine failed: ${(error as Error).message}`);
  }
  const stamped = stamp(input, decision, template);
  // The status the API server holds already was fitted and checked when it was written.
  if (sameJson(stamped.status, input.runbook.status ?? null)) return stamped;
  const status = fitStatusToSchema(decision.status);
  const [invalid] = validateStatus(status);
  if (invalid) {
    return park(
      input,
      'InternalError',
      `the engine produced a status the schema refuses: ${invalid.field} ${invalid.message}`,
    );
  }
  return stamp(input, { ...decision, status }, template);
}

/**
 * A decision that took longer than the operator's budget per reconcile parks the runbook (the
 * controller measures, and has decided twice: the same spec would take as long again), keeping
 * what it folded in.
 */
export function withinReconcileBudget(
  input: EngineInput,
  decision: Decision,
  tookMs: number,
  budgetMs: number,
): Decision {
  if (tookMs <= budgetMs) return decision;
  return park(
    input,
    'ReconcileBudgetExceeded',
    `deciding this runbook took ${Math.round(tookMs)} ms, over the operator's budget of ${budgetMs} ms per reconcile: make it smaller (fewer stages, shorter inputs, cheaper gate conditions)`,
    decision.status,
    decision.store,
  );
}
