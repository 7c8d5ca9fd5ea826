/**
 * Stages that run a runbook (`runbook`): the stage starts by planning a child AgentRunbook, owned
 * by this runbook, made from a template or from another runbook's spec, with the stage's resolved
 * inputs as its context and its budgets capped at the stage's grant; the controller creates it
 * after the status (as it creates Jobs). Each reconcile folds what the child became: its usage, and
 * once it ended its outputs (Succeeded) or a failure the retry policy may retry with a new child.
 * A stage that stops cancels its child (or never creates it, when it started in the same reconcile);
 * the children of a replaced run are cancelled too.
 */
import { MAX_RUNBOOK_DEPTH } from '../../api/v2/branching.js';
import { parseMicros } from '../../api/grammar.js';
import { cloneJson, setOwn } from '../../api/json.js';
import { GROUP, STORAGE_VERSION } from '../../api/group.js';
import type { SpecV2, StageStatusV2 } from '../../api/v2/runbook.js';
import { validateAgentRunbook } from '../../api/validator.js';
import { timestamp } from '../model/conditions.js';
import { jobName } from '../model/naming.js';
import type { ChildObservation, ChildPlan } from '../model/types.js';
import { listOutputs, parseItemName } from '../spec/for-each.js';
import { encodeOutputs, splitOutputs, storedOutputsName, type OutputRef } from '../spec/stored-outputs.js';
import type { RunStage } from '../spec/workflow-stages.js';
import { checkOutputs, type ErrorClass, type Problem } from '../stage/agent-report.js';
import { capBudgets, type Grant } from '../stage/budget.js';
import { resolveInputs } from '../stage/inputs.js';
import { addUsage, failOrRetry } from './fold.js';
import { planContext } from './plan-context.js';
import type { Run } from './run.js';

export const runsRunbook = (spec: RunStage | undefined): boolean => spec?.runbook !== undefined;

/** The phases a child run ends in. */
export const CHILD_ENDED = new Set(['Succeeded', 'Failed', 'TimedOut', 'BudgetExceeded', 'Cancelled']);

/** The error class a child's ending counts as, for retries and the workflow triggers. */
const ENDING_CLASS: Record<string, ErrorClass> = {
  Failed: 'UNKNOWN',
  TimedOut: 'TIMEOUT',
  BudgetExceeded: 'QUOTA_EXCEEDED',
  Cancelled: 'CRITICAL_ERROR',
};

const SHOWN_PROBLEMS = 3;

/** The spec the child starts from: a template reference, or a copy of the named runbook's spec. */
function sourceSpec(run: Run, spec: RunStage): { spec: SpecV2 } | { problem: Problem } {
  const source = spec.runbook;
  if (source?.template)
    return { spec: { version: run.spec.version, template: { ...source.template }, agents: {} } };
  const name = source?.name ?? '';
  const named = run.input.runbookSpec?.(name);
  if (!named) {
    return {
      problem: {
        reason: 'ChildRunbookNotFound',
        message: `runbook.name ${name}: no AgentRunbook ${name} in namespace ${run.input.runbook.metadata.namespace}`,
      },
    };
  }
  const copy = cloneJson(named);
  // The child runs at once, whatever state the runbook it copies is in.
  delete copy.status;
  delete copy.suspend;
  return { spec: copy };
}

/** The child AgentRunbook a stage's attempt runs, or why it cannot run one. */
export function planChild(
  run: Run,
  spec: RunStage,
  attempt: number,
  grant: Grant,
): { plan: ChildPlan } | { problem: Problem } {
  const depth = (run.input.depth ?? 0) + 1;
  if (depth > MAX_RUNBOOK_DEPTH) {
    return {
      problem: {
        reason: 'RunbookDepthExceeded',
        message: `the child would be nested ${depth} runbooks deep, over the limit of ${MAX_RUNBOOK_DEPTH}`,
      },
    };
  }
  const scope = planContext(run, grant, undefined).scope;
  const files = new Map();
  const resolved = resolveInputs(spec, { ...scope, files });
  if ('problem' in resolved) return resolved;
  if (files.size) {
    return {
      problem: {
        reason: 'InputsTooLarge',
        message: `the inputs pass outputs kept in ConfigMaps (${[...files.keys()].join(', ')}); a child runbook takes its inputs as spec.context, which holds values, not files`,
      },
    };
  }
  const source = sourceSpec(run, spec);
  if ('problem' in source) return source;
  const budgets = capBudgets(source.spec.budgets, {
    ...(grant.tokens === undefined ? {} : { tokens: { total: grant.tokens } }),
    ...(grant.costUSD === undefined ? {} : { cost: { maxUSD: grant.costUSD } }),
  });
  const child: SpecV2 = {
    ...source.spec,
    context: { ...source.spec.context, ...resolved.inputs },
    ...(budgets ? { budgets } : {}),
  };
  const { name, uid, generation, namespace } = run.input.runbook.metadata;
  const childName = jobName(name, spec.name, run.execution, attempt, uid);
  const problems = validateAgentRunbook({
    apiVersion: `${GROUP}/${STORAGE_VERSION}`,
    kind: 'AgentRunbook',
    metadata: { name: childName, namespace },
    spec: child,
  });
  if (problems.length) {
    const shown = problems.slice(0, SHOWN_PROBLEMS).map((problem) => `${problem.field}: ${problem.message}`);
    return {
      problem: {
        reason: 'ChildRunbookInvalid',
        message: `the child runbook would be invalid: ${shown.join('; ')}`,
      },
    };
  }
  return {
    plan: { name: childName, stage: spec.name, execution: run.execution, attempt, generation, spec: child },
  };
}

/** Starts the stage's next attempt as a child runbook, or fails the stage if it cannot. */
export function startChild(run: Run, stage: StageStatusV2, spec: RunStage, grant: Grant): boolean {
  const attempt = (stage.attempt ?? 0) + 1;
  const planned = planChild(run, spec, attempt, grant);
  if ('problem' in planned) {
    const { reason, message } = planned.problem;
    stage.lastError = 'VALIDATION_ERROR';
    run.finishStage(stage, 'Failed', reason, message);
    run.event('Warning', 'StageFailed', `stage ${stage.name} failed (${reason}): ${message}`);
    return false;
  }
  const { name } = planned.plan;
  Object.assign(stage, { phase: 'Running', attempt, child: name, reason: 'Started', grant });
  delete stage.job;
  delete stage.nextAttemptTime;
  stage.message = `attempt ${attempt} running as child runbook ${name}`;
  stage.startTime ??= timestamp(run.now);
  run.children.push(planned.plan);
  return true;
}

/** The child's outputs by name: each from the last of its stages that reported it. */
function childOutputs(child: ChildObservation): {
  outputs: Record<string, unknown>;
  refs: Record<string, OutputRef>;
} {
  // Each name's last value, inline or stored, in stage order.
  const last = new Map<string, { value: unknown } | { ref: OutputRef }>();
  for (const stage of child.stages) {
    if (stage.phase !== 'Succeeded' || parseItemName(stage.name)) continue;
    for (const [name, value] of Object.entries(stage.outputs ?? {})) last.set(name, { value });
    for (const [name, ref] of Object.entries(stage.outputRefs ?? {})) last.set(name, { ref });
  }
  const outputs: Record<string, unknown> = {};
  const refs: Record<string, OutputRef> = {};
  for (const [name, kept] of last) {
    if ('ref' in kept) setOwn(refs, name, kept.ref);
    else setOwn(outputs, name, kept.value);
  }
  return { outputs, refs };
}

/** The first output the stage declares that the child did not give as declared. */
function missingOutput(
  spec: RunStage,
  outputs: Record<string, unknown>,
  refs: Record<string, OutputRef>,
): Problem | undefined {
  const declared = Object.entries(spec.config?.outputs ?? {}).filter(([name]) => !Object.hasOwn(refs, name));
  const problem = checkOutputs(Object.fromEntries(declared), outputs);
  return problem && { ...problem, message: problem.message.replace('the agent', 'the child runbook') };
}

/**
 * Keeps a child's outputs as a stage's own are kept: its values that the status cannot hold (the
 * child's stages together may have reported much) go to a ConfigMap of this run; those the child
 * kept in ConfigMaps stay there, named by reference.
 */
function keepChildOutputs(
  run: Run,
  stage: StageStatusV2,
  child: ChildObservation,
  outputs: Record<string, unknown>,
  refs: Record<string, OutputRef>,
): void {
  const encoded = encodeOutputs(outputs, Number.MAX_SAFE_INTEGER);
  const split =
    'encoded' in encoded
      ? splitOutputs(
          outputs,
          encoded.encoded,
          { name: storedOutputsName(child.name), stage: stage.name, execution: run.execution },
          listOutputs(run.specStages.values(), stage.name),
        )
      : { inline: outputs };
  stage.outputs = split.inline;
  const allRefs = { ...refs, ...split.refs };
  if (Object.keys(allRefs).length) stage.outputRefs = allRefs;
  else delete stage.outputRefs;
  if (split.store) run.store.push(split.store);
}

/** Folds a child that ended into its stage. */
function foldChild(run: Run, stage: StageStatusV2, spec: RunStage, child: ChildObservation): void {
  if (child.usage) addUsage(stage, child.usage.tokens ?? 0, parseMicros(child.usage.costUSD ?? '0'));
  const attempt = { attempt: child.attempt, name: child.name };
  if (child.phase === 'Succeeded') {
    const { outputs, refs } = childOutputs(child);
    const problem = missingOutput(spec, outputs, refs);
    if (!problem) {
      keepChildOutputs(run, stage, child, outputs, refs);
      delete stage.lastError;
      run.finishStage(stage, 'Succeeded', 'Succeeded', `child runbook ${child.name} succeeded`);
      return;
    }
    failOrRetry(
      run,
      stage,
      spec,
      { kind: 'failed', ...problem, errorClass: 'VALIDATION_ERROR', retryable: false },
      attempt,
    );
    return;
  }
  const phase = child.phase ?? 'Failed';
  failOrRetry(
    run,
    stage,
    spec,
    {
      kind: 'failed',
      reason: 'ChildRunbookFailed',
      message: `child runbook ${child.name} ended ${phase}: ${child.message ?? ''}`.slice(0, 2048),
      errorClass: ENDING_CLASS[phase] ?? 'UNKNOWN',
      retryable: phase !== 'Cancelled',
    },
    attempt,
  );
}

/**
 * Folds the children of this run into their stages; a running stage whose child the cache does
 * not hold yet has it created again (the same name: the API server answers that it exists).
 */
export function foldChildren(run: Run): void {
  const children = new Map((run.input.children ?? []).map((child) => [child.name, child]));
  for (const [name, stage] of run.stages) {
    const spec = run.specStages.get(name);
    if (!spec || !runsRunbook(spec) || stage.phase !== 'Running' || !stage.child) continue;
    const child = children.get(stage.child);
    if (!child) {
      const planned = planChild(run, spec, stage.attempt ?? 1, stage.grant ?? {});
      if ('plan' in planned && planned.plan.name === stage.child) run.children.push(planned.plan);
      continue;
    }
    if (CHILD_ENDED.has(child.phase ?? '')) foldChild(run, stage, spec, child);
  }
}

/** Children of other runs (a spec change or a rerun replaced theirs) that still run: cancelled. */
export function cancelReplacedChildren(run: Run): void {
  for (const child of run.input.children ?? []) {
    if (child.execution !== run.execution && !CHILD_ENDED.has(child.phase ?? ''))
      run.cancelChildren.push(child.name);
  }
}
