/**
 * What the CRD's schema cannot say about a runbook, checked by the validating webhook. Every
 * message starts with the field path it is about.
 */
import semver from 'semver';
import { isDeepStrictEqual } from 'node:util';
import type { SpecV2 } from '../api/v2/runbook.js';
import { CEL_TOTAL_COST_LIMIT } from '../api/limits.js';
import { compileCondition } from '../engine/cel.js';
import { effectiveSpec } from '../engine/effective.js';
import { celScope, GATE_VARIABLES } from '../engine/gates.js';
import { graphProblem } from '../engine/graph.js';
import { parseMicros } from '../api/grammar.js';
import { referencedStages } from '../engine/substitution.js';
import { allStages, stageNameProblems } from '../engine/workflow-stages.js';
import { compileUserSchema } from '../engine/user-schema.js';

export interface FieldProblem {
  field: string;
  message: string;
}

function ancestors(spec: SpecV2): Map<string, Set<string>> {
  const stages = spec.agents.pipeline ?? [];
  const pipeline = (spec.execution?.mode ?? 'pipeline') === 'pipeline';
  const direct = new Map(
    stages.map((stage, index) => [
      stage.name,
      [...(stage.dependsOn ?? []), ...(pipeline ? stages.slice(0, index).map((s) => s.name) : [])],
    ]),
  );
  const closure = new Map<string, Set<string>>();
  const visit = (name: string, seen: Set<string>): Set<string> => {
    const known = closure.get(name);
    if (known) return known;
    const result = new Set<string>();
    for (const dep of direct.get(name) ?? []) {
      if (seen.has(dep)) continue;
      result.add(dep);
      for (const further of visit(dep, new Set([...seen, name]))) result.add(further);
    }
    closure.set(name, result);
    return result;
  };
  for (const name of direct.keys()) visit(name, new Set([name]));
  return closure;
}

function checkReferences(spec: SpecV2): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const stages = spec.agents.pipeline ?? [];
  const names = new Set(stages.map((stage) => stage.name));
  const before = ancestors(spec);
  stages.forEach((stage, index) => {
    for (const [input, value] of Object.entries(stage.config?.inputs ?? {})) {
      for (const ref of referencedStages(value)) {
        const field = `spec.agents.pipeline[${index}].config.inputs.${input}`;
        if (!names.has(ref)) {
          problems.push({ field, message: `refers to \${${ref}.outputs...}, but there is no stage ${ref}` });
        } else if (!before.get(stage.name)?.has(ref)) {
          problems.push({
            field,
            message: `refers to the outputs of stage ${ref}, which is not one of its dependencies: add ${ref} to spec.agents.pipeline[${index}].dependsOn`,
          });
        }
      }
    }
  });
  return problems;
}

function checkSteps(spec: SpecV2): FieldProblem[] {
  const known = new Set([
    ...(spec.agents.pipeline ?? []).map((stage) => stage.name),
    ...Object.keys(spec.agents.core ?? {}),
  ]);
  const problems: FieldProblem[] = [];
  for (const workflow of ['main', 'fallback', 'emergency'] as const) {
    (spec.workflows?.[workflow]?.steps ?? []).forEach((step, index) => {
      if ((step.action ?? 'run') === 'terminate' || !step.agent || known.has(step.agent)) return;
      problems.push({
        field: `spec.workflows.${workflow}.steps[${index}].agent`,
        message: `names agent ${step.agent}, which is neither a stage of spec.agents.pipeline nor an entry of spec.agents.core`,
      });
    });
  }
  return problems;
}

function checkConditions(spec: SpecV2): FieldProblem[] {
  const problems: FieldProblem[] = [];
  let total = 0;
  const scope = celScope(spec);
  (spec.quality?.gates ?? []).forEach((gate, index) => {
    if (gate.condition === undefined) return;
    const compiled = compileCondition(gate.condition, scope, GATE_VARIABLES);
    if ('problem' in compiled) {
      problems.push({ field: `spec.quality.gates[${index}].condition`, message: compiled.problem });
    } else total += compiled.cost;
  });
  if (total > CEL_TOTAL_COST_LIMIT) {
    problems.push({
      field: 'spec.quality.gates',
      message: `the conditions have an estimated cost of ${total} together, over the limit of ${CEL_TOTAL_COST_LIMIT} per runbook`,
    });
  }
  return problems;
}

/** Budgets as each environment overlay makes them, which the schema cannot see merged. */
function checkBudgets(spec: SpecV2): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const environment of Object.keys(spec.environments ?? {})) {
    const budgets = effectiveSpec({ ...spec, environment }).budgets;
    const field = `spec.environments.${environment}.budgets`;
    const tokens = budgets?.tokens;
    if (tokens?.perAgent !== undefined && tokens.total !== undefined && tokens.perAgent > tokens.total) {
      problems.push({
        field,
        message: `with this overlay tokens.perAgent (${tokens.perAgent}) exceeds tokens.total (${tokens.total})`,
      });
    }
    const cost = budgets?.cost;
    if (
      cost?.alertThreshold !== undefined &&
      cost.maxUSD !== undefined &&
      parseMicros(cost.alertThreshold) > parseMicros(cost.maxUSD)
    ) {
      problems.push({
        field,
        message: `with this overlay cost.alertThreshold (${cost.alertThreshold}) exceeds cost.maxUSD (${cost.maxUSD})`,
      });
    }
  }
  return problems;
}

function checkValidationSchemas(spec: SpecV2): FieldProblem[] {
  return (spec.agents.pipeline ?? []).flatMap((stage, index) => {
    const schema = stage.config?.validation?.schema;
    const compiled = schema ? compileUserSchema(schema) : undefined;
    return compiled && 'problem' in compiled
      ? [{ field: `spec.agents.pipeline[${index}].config.validation.schema`, message: compiled.problem }]
      : [];
  });
}

export function validateRunbookSpec(spec: SpecV2): FieldProblem[] {
  const names = stageNameProblems(spec);
  if (names.length) return names;
  const cycle = graphProblem(allStages(spec));
  return [
    ...(cycle ? [{ field: 'spec.agents.pipeline', message: cycle }] : []),
    ...checkValidationSchemas(spec),
    ...checkReferences(spec),
    ...checkSteps(spec),
    ...checkConditions(spec),
    ...checkBudgets(spec),
  ];
}

const RANK: Record<string, number> = {
  prerelease: 0,
  prepatch: 1,
  patch: 1,
  preminor: 2,
  minor: 2,
  premajor: 3,
  major: 3,
};

/** Warnings (not refusals) about spec.version on an update. */
export function versionWarnings(old: SpecV2, next: SpecV2): string[] {
  const { version: oldVersion, ...oldRest } = old;
  const { version: newVersion, ...newRest } = next;
  if (isDeepStrictEqual(oldRest, newRest)) return [];
  if (oldVersion === newVersion) {
    return [`spec changed but spec.version is still ${newVersion}: bump it so the change can be told apart`];
  }
  if (!semver.valid(oldVersion) || !semver.valid(newVersion)) return [];
  if (semver.lt(newVersion, oldVersion))
    return [`spec.version went down from ${oldVersion} to ${newVersion}`];
  const oldStages = new Set((old.agents.pipeline ?? []).map((stage) => stage.name));
  const newStages = new Set((next.agents.pipeline ?? []).map((stage) => stage.name));
  const removed = [...oldStages].filter((name) => !newStages.has(name));
  const added = [...newStages].filter((name) => !oldStages.has(name));
  const [needed, why] = removed.length
    ? (['major', `removing stage ${removed.join(', ')} is a breaking change`] as const)
    : added.length
      ? (['minor', `adding stage ${added.join(', ')} is a new feature`] as const)
      : (['patch', 'the spec changed'] as const);
  const bump = semver.diff(oldVersion, newVersion) ?? 'patch';
  if ((RANK[bump] ?? 0) >= (RANK[needed] ?? 0)) return [];
  return [
    `${why}: spec.version should get a ${needed} bump, but ${oldVersion} -> ${newVersion} is a ${bump} bump`,
  ];
}
