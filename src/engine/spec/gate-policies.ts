/**
 * Gate policies: the gates a GatePolicy (a namespace's administrators) or a ClusterGatePolicy (the
 * cluster's) adds to the runbooks it matches. The run's gates are the spec's and the policies':
 * a policy's gate replaces a spec gate of the same name, so an author cannot weaken it by
 * redefining it.
 */
import type { GatePolicySpecV2 } from '../../api/v2/gate-policy.js';
import type { SpecV2 } from '../../api/v2/runbook.js';
import { compileCondition } from './cel.js';
import { celScope, GATE_VARIABLES, type Gate } from './gates.js';
import { allStages } from './workflow-stages.js';
import { compareText } from '../../api/text.js';

export interface GatePolicyRecord {
  kind: 'GatePolicy' | 'ClusterGatePolicy';
  name: string;
  spec: GatePolicySpecV2;
}

/** A gate the run applies, and the policy that added it (kind/name), when one did. */
export type RunGate = Gate & { policy?: string };

/** The most gates policies may add to one runbook; past it the run waits (fail closed). */
export const MAX_POLICY_GATES_PER_RUNBOOK = 64;

const policyRef = (policy: Pick<GatePolicyRecord, 'kind' | 'name'>) => `${policy.kind}/${policy.name}`;

type Selector = NonNullable<NonNullable<GatePolicySpecV2['match']>['runbookSelector']>;

export function selectorMatches(selector: Selector, labels: Readonly<Record<string, string>>): boolean {
  const exact = Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
  return (
    exact &&
    (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
      const value = labels[key];
      switch (operator) {
        case 'In':
          return value !== undefined && values.includes(value);
        case 'NotIn':
          return value === undefined || !values.includes(value);
        case 'Exists':
          return value !== undefined;
        case 'DoesNotExist':
          return value === undefined;
      }
    })
  );
}

/** The runbook as a policy sees it. */
export interface PolicySubject {
  namespace: string;
  labels: Readonly<Record<string, string>>;
  spec: SpecV2;
}

/** Whether the condition holds; one that cannot be evaluated holds (fail closed, as a gate's). */
function conditionHolds(condition: string, spec: SpecV2): boolean {
  const compiled = compileCondition(condition, celScope(spec), GATE_VARIABLES);
  if ('problem' in compiled) return true;
  try {
    return compiled.evaluate() !== false;
  } catch {
    return true;
  }
}

export function policyMatches(policy: GatePolicyRecord, subject: PolicySubject): boolean {
  const match = policy.spec.match ?? {};
  if (match.namespaces?.length && !match.namespaces.includes(subject.namespace)) return false;
  if (match.runbookSelector && !selectorMatches(match.runbookSelector, subject.labels)) return false;
  if (match.agents?.length) {
    const used = new Set(allStages(subject.spec).map((stage) => stage.agent));
    if (!match.agents.some((agent) => used.has(agent))) return false;
  }
  return match.condition === undefined || conditionHolds(match.condition, subject.spec);
}

/**
 * The run's gates: the matching policies' (cluster policies first, then the namespace's, each by
 * name; the first gate of a name wins), then the spec's gates no policy gate replaced. `overflow`
 * names the policy gates past MAX_POLICY_GATES_PER_RUNBOOK.
 */
export function runGates(
  spec: SpecV2,
  policies: readonly GatePolicyRecord[],
  subject: PolicySubject,
): { gates: RunGate[]; overflow: number } {
  const ordered = [...policies].sort(
    (a, b) =>
      (a.kind === b.kind ? 0 : a.kind === 'ClusterGatePolicy' ? -1 : 1) || compareText(a.name, b.name),
  );
  const stages = new Set(allStages(spec).map((stage) => stage.name));
  const fromPolicies = new Map<string, RunGate>();
  let overflow = 0;
  for (const policy of ordered) {
    if (!policyMatches(policy, subject)) continue;
    for (const { before, ...gate } of policy.spec.gates) {
      if (fromPolicies.has(gate.name)) continue;
      if (fromPolicies.size >= MAX_POLICY_GATES_PER_RUNBOOK) overflow += 1;
      // A policy cannot know every runbook's stages: one it names that this runbook lacks
      // guards the start of the run instead (fail closed).
      else
        fromPolicies.set(gate.name, {
          ...gate,
          ...(before !== undefined && stages.has(before) ? { before } : {}),
          policy: policyRef(policy),
        });
    }
  }
  const own = (spec.quality?.gates ?? []).filter((gate) => !fromPolicies.has(gate.name));
  return { gates: [...fromPolicies.values(), ...own], overflow };
}
