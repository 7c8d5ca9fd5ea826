/**
 * A stage's `when`: the CEL condition that decides, once its dependencies have finished, whether it
 * runs. The same bounded, cost-checked CEL as gate conditions, over the gates' variables plus the
 * stage's own parameters and the outputs of the stages it reads (outputs.<stage>), which it thereby
 * depends on. A condition that cannot be evaluated fails the stage: skipping or running it on a
 * guess would both be wrong.
 */
import type { SpecV2, StageV2 } from '../../api/v2/runbook.js';
import { compileCondition, fieldsRead } from './cel.js';
import { celScope, GATE_VARIABLES } from './gates.js';

export const WHEN_VARIABLES: ReadonlySet<string> = new Set([...GATE_VARIABLES, 'parameters', 'outputs']);

/** The stages (or pipeline stages a step answers to) whose outputs a stage's `when` reads by name. */
export function whenStages(stage: Pick<StageV2, 'when'>): string[] {
  return stage.when === undefined ? [] : [...(fieldsRead(stage.when, 'outputs')?.names ?? [])];
}

/** Where `when` reads outputs in a way no check can follow (outputs[x], size(outputs)). */
export function whenReadsDynamically(stage: Pick<StageV2, 'when'>): boolean {
  return stage.when !== undefined && (fieldsRead(stage.when, 'outputs')?.dynamic ?? false);
}

export function whenScope(
  spec: SpecV2,
  stage: StageV2,
  outputs: Record<string, Record<string, unknown>>,
): Record<string, unknown> {
  return { ...celScope(spec), parameters: stage.config?.parameters ?? {}, outputs };
}

export type WhenOutcome = { run: true } | { skip: string } | { problem: string };

export function evaluateWhen(
  spec: SpecV2,
  stage: StageV2,
  outputs: Record<string, Record<string, unknown>>,
): WhenOutcome {
  const expression = stage.when;
  if (expression === undefined) return { run: true };
  const compiled = compileCondition(expression, whenScope(spec, stage, outputs), WHEN_VARIABLES);
  if ('problem' in compiled) return { problem: `when ${compiled.problem}` };
  let result: unknown;
  try {
    result = compiled.evaluate();
  } catch (error) {
    const first = (error as Error).message.split('\n')[0] ?? '';
    return { problem: `when ${expression} could not be evaluated: ${first}` };
  }
  if (typeof result !== 'boolean')
    return { problem: `when ${expression} gave ${String(result)}, not a boolean` };
  return result ? { run: true } : { skip: `when ${expression} is false` };
}
