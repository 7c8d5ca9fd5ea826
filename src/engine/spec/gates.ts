/**
 * Quality gates. A gate applies when it is required, or when its CEL condition over the spec is
 * true; an applying gate waits for GateDecisions (made by users allowed to approve, recorded by
 * the admission webhook for the current generation) or until its timeout passes. A condition that
 * cannot be evaluated makes the gate apply (fail closed).
 */
import { Context } from '../../api/v2/context.js';
import { Spec, type SpecV2 } from '../../api/v2/runbook.js';
import { compileCondition } from './cel.js';
import { compareText } from '../../api/text.js';

export type Gate = NonNullable<NonNullable<SpecV2['quality']>['gates']>[number];

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

/** The command that approves a gate, as it works when printed. */
export function approvalCommand(name: string, namespace: string, gate: string): string {
  return `agentrunbook approve ${name} ${gate} -n ${namespace}`;
}

/** One user's GateDecision, as the admission webhook recorded it. */
export interface DecisionRecord {
  /** The GateDecision's name. */
  name: string;
  gate: string;
  decision: Verdict;
  user: string;
  groups: readonly string[];
  comment?: string;
  generation: number;
  /** When it was made (its creationTimestamp). */
  time: string;
}

export type Verdict = 'Approved' | 'Rejected';

/** Who may decide a gate, and how many approvals it needs. */
export interface Eligibility {
  needed: number;
  excludeAuthor: boolean;
  groups: readonly string[];
}

/** A gate's approver rules, from its approvals (as the spec, a policy or a status row has them). */
export function eligibility(approvals: Gate['approvals']): Eligibility {
  return {
    needed: approvals?.count ?? 1,
    excludeAuthor: approvals?.excludeAuthor ?? false,
    groups: approvals?.groups ?? [],
  };
}

/** Why a user may not decide a gate, or undefined when they may. The webhook and the engine both ask. */
export function ineligibility(
  rules: Eligibility,
  user: string,
  groups: readonly string[],
  author: string | undefined,
): string | undefined {
  if (rules.excludeAuthor && author === undefined) {
    return 'the gate forbids the author from deciding it, and the runbook has no recorded author (annotation i2s.studio/author): change its spec once to record one';
  }
  if (rules.excludeAuthor && user === author) {
    return `${user} last changed the spec, and the gate forbids its author from deciding it`;
  }
  if (rules.groups.length && !rules.groups.some((group) => groups.includes(group))) {
    return `${user} is in none of the gate's approver groups (${rules.groups.join(', ')})`;
  }
  return undefined;
}

export interface Tally {
  verdict?: Verdict;
  /** The decisions that count for this generation, one per user (their latest), oldest first. */
  counted: DecisionRecord[];
  approvals: number;
  /** Why decisions of this generation do not count. */
  ignored: string[];
}

/**
 * What the decisions made for this generation of the spec add up to: one rejection rejects the
 * gate; the needed number of different users approving approves it. A decision made for another
 * generation is for a spec that is no longer the one that runs, so it does not count.
 */
export function tallyDecisions(
  gate: string,
  rules: Eligibility,
  decisions: readonly DecisionRecord[],
  generation: number,
  author: string | undefined,
): Tally {
  const latest = new Map<string, DecisionRecord>();
  const ignored: string[] = [];
  const ordered = decisions
    .filter((decision) => decision.gate === gate && decision.generation === generation)
    .sort((a, b) => compareText(a.time, b.time) || compareText(a.name, b.name));
  for (const decision of ordered) {
    const why = ineligibility(rules, decision.user, decision.groups, author);
    if (why) ignored.push(`${decision.name}: ${why}`);
    else {
      latest.delete(decision.user);
      latest.set(decision.user, decision);
    }
  }
  const counted = [...latest.values()];
  const approvals = counted.filter((decision) => decision.decision === 'Approved').length;
  const verdict = counted.some((decision) => decision.decision === 'Rejected')
    ? 'Rejected'
    : approvals >= rules.needed
      ? 'Approved'
      : undefined;
  return { ...(verdict ? { verdict } : {}), counted, approvals, ignored };
}
