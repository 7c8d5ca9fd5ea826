/**
 * Quality gates. A gate applies when it is required, or when its CEL condition over the spec is
 * true; an applying gate waits for the annotation gates.i2s.studio/<gate>: approved|rejected (made
 * by a user allowed to approve, and recorded by the webhook for the current generation), or until
 * its timeout passes. A condition that cannot be evaluated makes the gate apply (fail closed).
 */
import { Context } from '../../api/v2/context.js';
import { Spec, type SpecV2 } from '../../api/v2/runbook.js';
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

/** Where the admission webhook records who decided a gate, for which generation, and when. */
export const DECISION_ANNOTATION_PREFIX = 'decisions.gates.i2s.studio/';
/** A decision record is a small JSON object; anything longer is not one. */
const MAX_RECORD_LENGTH = 1024;

export type GateVerdict = 'approved' | 'rejected';

export interface DecisionRecord {
  decision: GateVerdict;
  generation: number;
  user: string;
  time: string;
}

export function gateVerdict(value: string | undefined): GateVerdict | undefined {
  const verdict = value?.trim().toLowerCase();
  return verdict === 'approved' || verdict === 'rejected' ? verdict : undefined;
}

function parseDecisionRecord(text: string | undefined): DecisionRecord | undefined {
  if (text === undefined || text.length > MAX_RECORD_LENGTH) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const record = parsed as Partial<DecisionRecord>;
  return gateVerdict(record.decision) &&
    Number.isSafeInteger(record.generation) &&
    typeof record.user === 'string' &&
    typeof record.time === 'string'
    ? (record as DecisionRecord)
    : undefined;
}

/**
 * The decision on a gate for this generation of the spec: the annotation
 * gates.i2s.studio/<gate>, counted only with the webhook's record of who made it for this
 * generation (an approval is for the spec that was approved). `stale` says why an annotation
 * present does not count.
 */
export function gateDecision(
  annotations: Record<string, string> | undefined,
  gate: string,
  generation: number,
): { record: DecisionRecord } | { stale: string } | undefined {
  const key = `${GATE_ANNOTATION_PREFIX}${gate}`;
  const verdict = gateVerdict(annotations?.[key]);
  if (!verdict) return undefined;
  const record = parseDecisionRecord(annotations?.[`${DECISION_ANNOTATION_PREFIX}${gate}`]);
  if (!record || record.decision !== verdict) {
    return { stale: `${key}=${verdict} has no record of who decided it (the admission webhook writes one)` };
  }
  if (record.generation !== generation) {
    return {
      stale: `${key}=${verdict} was decided by ${record.user} for generation ${record.generation}; the spec has changed since (generation ${generation})`,
    };
  }
  return { record };
}
