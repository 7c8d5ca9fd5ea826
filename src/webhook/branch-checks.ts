/**
 * What admission can know of a runbook's branching (docs/branching.md): each `when` parses, reads
 * only its variables, stays under the CEL cost limit and names the stages whose outputs it reads;
 * skippedOutputs belongs to a stage that can be skipped and gives outputs the stage declares; a
 * forEach names a list (one it can see now is one), its settings go with it, and only its inputs
 * read ${item} and ${index}.
 */
import type { SpecV2 } from '../api/v2/runbook.js';
import { compileCondition } from '../engine/spec/cel.js';
import { WHEN_VARIABLES, whenReadsDynamically, whenScope, whenStages } from '../engine/spec/when.js';
import type { FieldProblem } from './validate-runbook.js';
import { forEachSource } from '../engine/spec/for-each.js';
import { readsItem } from '../engine/spec/substitution.js';
import { MAX_ITEMS_LIMIT } from '../api/v2/branching.js';
import { Context } from '../api/v2/context.js';

export function whenProblems(spec: SpecV2): FieldProblem[] {
  const stages = spec.agents.pipeline ?? [];
  const names = new Set(stages.map((stage) => stage.name));
  return stages.flatMap((stage, index): FieldProblem[] => {
    const at = `spec.agents.pipeline[${index}]`;
    const problems: FieldProblem[] = [];
    if (stage.when !== undefined) {
      const compiled = compileCondition(stage.when, whenScope(spec, stage, {}), WHEN_VARIABLES);
      if ('problem' in compiled) problems.push({ field: `${at}.when`, message: compiled.problem });
      else if (whenReadsDynamically(stage)) {
        problems.push({
          field: `${at}.when`,
          message:
            "reads outputs other than by a stage's name: write outputs.<stage> or outputs['<stage>'], so the stage waits for that one",
        });
      }
      for (const read of whenStages(stage)) {
        if (read === stage.name) {
          problems.push({ field: `${at}.when`, message: `reads outputs.${read}, its own outputs` });
        } else if (!names.has(read)) {
          problems.push({
            field: `${at}.when`,
            message: `reads outputs.${read}, but there is no stage ${read} in spec.agents.pipeline`,
          });
        }
      }
    }
    if (stage.skippedOutputs !== undefined) {
      if (stage.when === undefined) {
        problems.push({
          field: `${at}.skippedOutputs`,
          message:
            'the stage has no when condition, so it is never skipped by one: set when, or remove skippedOutputs',
        });
      }
      const declared = stage.config?.outputs;
      for (const output of Object.keys(stage.skippedOutputs)) {
        if (declared && !Object.hasOwn(declared, output)) {
          problems.push({
            field: `${at}.skippedOutputs.${output}`,
            message: `gives output ${output}, which config.outputs does not declare`,
          });
        }
      }
    }
    return problems;
  });
}

/** Where a forEach's list comes from, and whether what admission can see of it is a list. */
function sourceProblem(
  spec: SpecV2,
  own: string,
  value: unknown,
  stages: ReadonlySet<string>,
): string | undefined {
  const source = forEachSource(value);
  if ('problem' in source) return source.problem;
  if ('list' in source) {
    return source.list.length > MAX_ITEMS_LIMIT
      ? `lists ${source.list.length} items, over the ${MAX_ITEMS_LIMIT} any forEach may have`
      : undefined;
  }
  const [head = '', ...rest] = source.path;
  if (head === own) return `reads ${head}.outputs, its own outputs`;
  if (head !== 'context') {
    return stages.has(head)
      ? undefined
      : `reads ${head}.outputs, but there is no stage ${head} in spec.agents.pipeline`;
  }
  let node: unknown = spec.context ?? {};
  for (const part of rest) {
    if (typeof node !== 'object' || node === null || Array.isArray(node) || !Object.hasOwn(node, part)) {
      return `reads \${context.${rest.join('.')}}, but spec.context does not set it`;
    }
    node = (node as Record<string, unknown>)[part];
  }
  return Array.isArray(node)
    ? undefined
    : `reads context.${rest.join('.')}, which is ${typeof node}, not a list`;
}

export function forEachProblems(spec: SpecV2): FieldProblem[] {
  const stages = spec.agents.pipeline ?? [];
  const names = new Set(stages.map((stage) => stage.name));
  return stages.flatMap((stage, index): FieldProblem[] => {
    const at = `spec.agents.pipeline[${index}]`;
    if (stage.forEach === undefined) {
      const stray = (['maxParallel', 'onItemFailure'] as const).filter((field) => stage[field] !== undefined);
      const problems = stray.map((field) => ({
        field: `${at}.${field}`,
        message: 'applies to the items of a forEach stage, and this stage has no forEach',
      }));
      for (const [input, value] of Object.entries(stage.config?.inputs ?? {})) {
        if (readsItem(value)) {
          problems.push({
            field: `${at}.config.inputs.${input}`,
            message:
              'reads ${item} or ${index}, which only the inputs of a forEach stage have: give the stage a forEach',
          });
        }
      }
      return problems;
    }
    const problem = sourceProblem(spec, stage.name, stage.forEach, names);
    return problem ? [{ field: `${at}.forEach`, message: problem }] : [];
  });
}

/** What a stage that runs a runbook cannot also have: it runs no agent of its own. */
const AGENT_ONLY = [
  'agent',
  'version',
  'image',
  'command',
  'serviceAccountName',
  'automountServiceAccountToken',
  'workspaces',
  'cache',
  'forEach',
] as const;

/** A stage that runs a runbook: no agent settings beside it, and inputs that are context fields. */
export function childStageProblems(spec: SpecV2): FieldProblem[] {
  const contextFields = new Set(Object.keys(Context.properties));
  return (spec.agents.pipeline ?? []).flatMap((stage, index): FieldProblem[] => {
    if (stage.runbook === undefined) return [];
    const at = `spec.agents.pipeline[${index}]`;
    const problems: FieldProblem[] = AGENT_ONLY.filter((field) => stage[field] !== undefined).map(
      (field) => ({
        field: `${at}.${field}`,
        message:
          field === 'forEach'
            ? 'a stage that runs a runbook runs one child runbook per attempt; a forEach over runbooks is not supported'
            : `a stage that runs a runbook runs no agent of its own, so ${field} does not apply`,
      }),
    );
    for (const input of Object.keys(stage.config?.inputs ?? {})) {
      if (!contextFields.has(input)) {
        problems.push({
          field: `${at}.config.inputs.${input}`,
          message: `becomes the child runbook's spec.context.${input}, which is not a context field (${[...contextFields].join(', ')})`,
        });
      }
    }
    return problems;
  });
}
