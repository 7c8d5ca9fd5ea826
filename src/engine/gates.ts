/**
 * Quality gates. A gate applies when it is required, or when its CEL condition over the spec is
 * true; an applying gate waits for the annotation gates.i2s.studio/<gate>: approved|rejected, or
 * until its timeout passes. A condition that cannot be evaluated makes the gate apply (fail closed).
 */
import { Context } from '../api/v2/context.js';
import { Spec, type SpecV2 } from '../api/v2/runbook.js';
import { compileCondition } from './cel.js';

export const GATE_ANNOTATION_PREFIX = 'gates.i2s.studio/';

type Gate = NonNullable<NonNullable<SpecV2['quality']>['gates']>[number];

/**
 * The variables a gate condition may name: the spec's fields (context, execution, budgets, ...),
 * spec itself, and the context's fields bare (`riskLevel > 7`, the specification's form) as well
 * as under context (`context.riskLevel > 7`). Spec and context fields never share a name.
 */
export const GATE_VARIABLES: ReadonlySet<string> = new Set([
  ...Object.keys(Spec.properties),
  ...Object.keys(Context.properties),
  'spec',
]);

/** The values of those variables for one runbook. */
export function celScope(spec: SpecV2): Record<string, unknown> {
  const context = spec.context ?? {};
  return { ...context, ...spec, context, spec };
}

export function gateApplies(gate: Gate, spec: SpecV2): { applies: boolean; message: string } {
  if (gate.required) return { applies: true, message: 'the gate is required' };
  if (gate.condition === undefined)
    return { applies: false, message: 'the gate is neither required nor conditional' };
  const compiled = compileCondition(gate.condition, celScope(spec), GATE_VARIABLES);
  if ('problem' in compiled) {
    return { applies: true, message: `condition ${compiled.problem}; waiting to be safe` };
  }
  try {
    const result = compiled.evaluate();
    if (typeof result !== 'boolean') {
      return {
        applies: true,
        message: `condition ${gate.condition} gave ${String(result)}, not a boolean; waiting to be safe`,
      };
    }
    return {
      applies: result,
      message: result ? `condition ${gate.condition} is true` : `condition ${gate.condition} is false`,
    };
  } catch (error) {
    const first = (error as Error).message.split('\n')[0] ?? '';
    return {
      applies: true,
      message: `condition ${gate.condition} could not be evaluated (${first}); waiting to be safe`,
    };
  }
}

export function gateDecision(
  annotations: Record<string, string> | undefined,
  gate: string,
): 'approved' | 'rejected' | undefined {
  const value = annotations?.[`${GATE_ANNOTATION_PREFIX}${gate}`]?.trim().toLowerCase();
  return value === 'approved' || value === 'rejected' ? value : undefined;
}
