/**
 * What admission can know of a runbook's branching (docs/branching.md): each `when` parses, reads
 * only its variables, stays under the CEL cost limit and names the stages whose outputs it reads;
 * skippedOutputs belongs to a stage that can be skipped and gives outputs the stage declares.
 */
import type { SpecV2 } from '../api/v2/runbook.js';
import { compileCondition } from '../engine/spec/cel.js';
import { WHEN_VARIABLES, whenReadsDynamically, whenScope, whenStages } from '../engine/spec/when.js';
import type { FieldProblem } from './validate-runbook.js';

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
