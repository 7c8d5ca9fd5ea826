/**
 * What the CRD's schema cannot say about a runbook, checked by the validating webhook. Every
 * message starts with the field path it is about.
 */
import { Spec, TEMPLATE_RUNBOOK_FIELDS, type SpecV2 } from '../api/v2/runbook.js';
import { workspaceProblems } from '../api/v2/workspaces.js';
import { FILES_DIR } from '../api/agent-contract.js';
import { SCRATCH_DEFAULTS } from '../api/pod-template.js';
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { CEL_TOTAL_COST_LIMIT } from '../api/limits.js';
import { compileCondition } from '../engine/spec/cel.js';
import { sameJson } from '../api/json.js';
import { compileAlertCondition } from '../engine/run/alerts.js';
import { RUNBOOK_METRICS } from '../api/v2/monitoring.js';
import { conductorConfig, maxConcurrentPipelines } from '../engine/spec/conductor.js';
import { celScope, GATE_VARIABLES } from '../engine/spec/gates.js';
import { graphProblem } from '../engine/spec/graph.js';
import { moneyMicros } from '../api/grammar.js';
import { dependencies } from '../engine/spec/graph.js';
import { referencedContext, referencedStages, referenceProblems } from '../engine/spec/substitution.js';
import {
  allStages,
  mainEntries,
  mainStages,
  stageNameProblems,
  type RunStage,
} from '../engine/spec/workflow-stages.js';
import { compileUserSchema } from '../engine/spec/user-schema.js';
import { cacheWordProblems } from './cache-checks.js';
import { childStageProblems, forEachProblems, whenProblems } from './branch-checks.js';

export interface FieldProblem {
  field: string;
  message: string;
}

/** Every stage a stage waits for, directly or not: the engine's own dependency model. */
function ancestors(stages: RunStage[]): Map<string, Set<string>> {
  const deps = dependencies(stages);
  const closure = new Map<string, Set<string>>();
  const visit = (name: string, seen: Set<string>): Set<string> => {
    const known = closure.get(name);
    if (known) return known;
    const result = new Set<string>();
    const direct = deps.get(name);
    for (const dep of [...(direct?.required ?? []), ...(direct?.after ? [direct.after] : [])]) {
      if (seen.has(dep)) continue;
      result.add(dep);
      for (const further of visit(dep, new Set([...seen, name]))) result.add(further);
    }
    closure.set(name, result);
    return result;
  };
  for (const name of deps.keys()) visit(name, new Set([name]));
  return closure;
}

/** The main workflow's stages, each with the field a problem with its inputs is reported at. */
function mainStagesWithFields(spec: SpecV2): { stage: RunStage; field: string }[] {
  if (!spec.workflows?.main?.steps?.length) {
    return mainStages(spec).map((stage, index) => ({
      stage,
      field: `spec.agents.pipeline[${index}].config.inputs`,
    }));
  }
  return mainEntries(spec).map(({ stage, step }) => ({ stage, field: `spec.workflows.main.steps[${step}]` }));
}

/**
 * What the main workflow's inputs read must be there when they are read: the outputs of a stage
 * that runs, and runs first; a context field the runbook sets.
 */
function checkReferences(spec: SpecV2): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const stages = mainStagesWithFields(spec);
  const byName = new Map<string, string>();
  for (const { stage } of stages) {
    byName.set(stage.name, stage.name);
    if (stage.alias) byName.set(stage.alias, stage.name);
  }
  const pipeline = new Set((spec.agents.pipeline ?? []).map((stage) => stage.name));
  const before = ancestors(stages.map(({ stage }) => stage));
  for (const { stage, field: at } of stages) {
    const steps = at.startsWith('spec.workflows');
    for (const [input, value] of Object.entries(stage.config?.inputs ?? {})) {
      const field = steps ? at : `${at}.${input}`;
      const what = steps ? `runs stage ${stage.alias ?? stage.name}, whose config.inputs.${input}` : '';
      for (const ref of referencedStages(value)) {
        const target = byName.get(ref);
        if (target === undefined) {
          problems.push({
            field,
            message:
              steps && pipeline.has(ref)
                ? `${what} reads the outputs of stage ${ref}, which no step of spec.workflows.main runs: add a step that runs ${ref} before it`
                : `${what ? `${what} ` : ''}refers to \${${ref}.outputs...}, but there is no stage ${ref}`,
          });
        } else if (!before.get(stage.name)?.has(target)) {
          problems.push({
            field,
            message: steps
              ? `${what} reads the outputs of ${ref}, which runs after it: run ${ref} first`
              : `refers to the outputs of stage ${ref}, which is not one of its dependencies: add ${ref} to ${at.replace(/\.config\.inputs$/, '')}.dependsOn`,
          });
        }
      }
    }
  }
  return [...problems, ...checkContextReferences(spec)];
}

/** Every ${...} of the stages' inputs can resolve in some run: closed, a real path, real transforms. */
function checkReferenceSyntax(spec: SpecV2): FieldProblem[] {
  return (spec.agents.pipeline ?? []).flatMap((stage, index) =>
    Object.entries(stage.config?.inputs ?? {}).flatMap(([input, value]) =>
      referenceProblems(value).map((message) => ({
        field: `spec.agents.pipeline[${index}].config.inputs.${input}`,
        message,
      })),
    ),
  );
}

/** A ${context.<field>} must name a field the runbook's context sets. */
function checkContextReferences(spec: SpecV2): FieldProblem[] {
  const context: unknown = spec.context ?? {};
  const problems: FieldProblem[] = [];
  (spec.agents.pipeline ?? []).forEach((stage, index) => {
    for (const [input, value] of Object.entries(stage.config?.inputs ?? {})) {
      for (const path of referencedContext(value)) {
        let node = context;
        for (const [depth, part] of path.entries()) {
          if (typeof node !== 'object' || node === null || !Object.hasOwn(node, part)) {
            problems.push({
              field: `spec.agents.pipeline[${index}].config.inputs.${input}`,
              message: `reads \${context.${path.join('.')}}, but spec.context does not set ${path.slice(0, depth + 1).join('.')}`,
            });
            break;
          }
          node = (node as Record<string, unknown>)[part];
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

/** spec.monitoring: metrics the operator can produce as declared, alerts that compile to a bool. */
function checkMonitoring(spec: SpecV2): FieldProblem[] {
  const problems: FieldProblem[] = [];
  (spec.monitoring?.metrics ?? []).forEach((metric, index) => {
    const field = `spec.monitoring.metrics[${index}]`;
    const known = RUNBOOK_METRICS[metric.name];
    if (metric.type !== known.type) {
      problems.push({
        field: `${field}.type`,
        message: `${metric.name} is a ${known.type}, not a ${metric.type}`,
      });
    }
    const allowed: readonly string[] = known.labels;
    for (const label of metric.labels ?? []) {
      if (!allowed.includes(label)) {
        problems.push({
          field: `${field}.labels`,
          message: `${metric.name} has no label ${label}; it can carry ${allowed.join(', ')}`,
        });
      }
    }
    const buckets = metric.buckets ?? [];
    if (buckets.length && known.type !== 'histogram') {
      problems.push({
        field: `${field}.buckets`,
        message: `only a histogram has buckets; ${metric.name} is a ${known.type}`,
      });
    } else if (buckets.some((bound, at) => at > 0 && bound <= (buckets[at - 1] ?? 0))) {
      problems.push({
        field: `${field}.buckets`,
        message: 'the bucket bounds must be ascending, each larger than the last',
      });
    }
  });
  (spec.monitoring?.alerts ?? []).forEach((alert, index) => {
    const compiled = compileAlertCondition(alert.condition);
    if ('problem' in compiled) {
      problems.push({ field: `spec.monitoring.alerts[${index}].condition`, message: compiled.problem });
    }
  });
  return problems;
}

/**
 * The shares of spec.budgets.cost against its whole: the CRD cannot compare the amounts, which it
 * leaves untyped (a number or a decimal string).
 */
function checkBudgets(spec: SpecV2): FieldProblem[] {
  const cost = spec.budgets?.cost;
  const maxUSD = cost?.maxUSD;
  if (maxUSD === undefined) return [];
  return (['perAgent', 'alertThreshold'] as const).flatMap((share) => {
    const amount = cost?.[share];
    return amount !== undefined && moneyMicros(amount) > moneyMicros(maxUSD)
      ? [{ field: `spec.budgets.cost.${share}`, message: `${share} must not exceed maxUSD` }]
      : [];
  });
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

/** What the API server fills in for a field left out: a runbook made from a template carries these. */
function defaulted(field: string): unknown {
  if (field === 'agents') return {};
  const schema: unknown = Object.hasOwn(Spec.properties, field)
    ? Spec.properties[field as keyof typeof Spec.properties]
    : undefined;
  return schema === undefined ? undefined : Value.Default(schema as TSchema, undefined);
}

/** A runbook made from a template sets only what TEMPLATE_RUNBOOK_FIELDS allows. */
function checkTemplateRef(spec: SpecV2): FieldProblem[] {
  if (!spec.template) return [];
  const allowed = new Set<string>(TEMPLATE_RUNBOOK_FIELDS);
  return Object.entries(spec)
    .filter(([field, value]) => !allowed.has(field) && !sameJson(value, defaulted(field) ?? null))
    .map(([field]) => ({
      field: `spec.${field}`,
      message: `a runbook made from a template (spec.template) takes ${field} from the template; it may set only ${TEMPLATE_RUNBOOK_FIELDS.join(', ')}`,
    }));
}

/** A runbook that runs no stage at all is a mistake (a run would succeed having done nothing). */
function checkRunsSomething(spec: SpecV2): FieldProblem[] {
  if (spec.template || mainStages(spec).length > 0) return [];
  return [
    {
      field: 'spec.agents.pipeline',
      message:
        'the runbook runs no stage: give spec.agents.pipeline a stage, or spec.workflows.main a step that runs one',
    },
  ];
}

export function validateRunbookSpec(spec: SpecV2): FieldProblem[] {
  const template = checkTemplateRef(spec);
  if (template.length) return template;
  const empty = checkRunsSomething(spec);
  if (empty.length) return empty;
  const names = stageNameProblems(spec);
  if (names.length) return names;
  // Main steps run in order and replace the pipeline's order, but the pipeline's own dependsOn
  // must still make sense: a cycle there is refused whether or not steps run its stages.
  const cycle =
    graphProblem(allStages(spec)) ??
    graphProblem(
      (spec.agents.pipeline ?? []).map((stage) => ({ ...stage, workflow: 'main', sequential: false })),
    );
  return [
    ...(cycle ? [{ field: 'spec.agents.pipeline', message: cycle }] : []),
    ...checkValidationSchemas(spec),
    ...checkReferenceSyntax(spec),
    ...checkReferences(spec),
    ...checkSteps(spec),
    ...checkConditions(spec),
    ...whenProblems(spec),
    ...forEachProblems(spec),
    ...childStageProblems(spec),
    ...checkBudgets(spec),
    ...checkConductor(spec),
    ...checkMonitoring(spec),
    ...cacheWordProblems(spec),
    ...workspaceProblems(spec.workspaces, spec.agents.pipeline ?? [], [
      FILES_DIR,
      '/tmp',
      SCRATCH_DEFAULTS.home,
    ]),
  ];
}

/** maxConcurrentPipelines is a count of runbooks: a whole number from 1. */
function checkConductor(spec: SpecV2): FieldProblem[] {
  const { field, config } = conductorConfig(spec);
  const limit = config.maxConcurrentPipelines;
  return limit === undefined || maxConcurrentPipelines(spec) !== undefined
    ? []
    : [
        {
          field: `${field}.maxConcurrentPipelines`,
          message: `must be a whole number of runbooks, at least 1 (got ${JSON.stringify(limit)})`,
        },
      ];
}
