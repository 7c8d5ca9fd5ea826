/**
 * What the API server cannot check of a GatePolicy or ClusterGatePolicy: its CEL conditions
 * compile, read only the variables a gate condition may, and stay within the cost limit.
 */
import { GATE_POLICY_KINDS, GROUP, STORAGE_VERSION } from '../api/group.js';
import { isObject, type Json } from '../api/json.js';
import type { GatePolicySpecV2 } from '../api/v2/gate-policy.js';
import { validateGatePolicy, type FieldError } from '../api/validator.js';
import { compileCondition } from '../engine/spec/cel.js';
import { GATE_VARIABLES } from '../engine/spec/gates.js';

export const GATE_POLICY_KIND_SET = new Set<string>([
  GATE_POLICY_KINDS.namespaced.kind,
  GATE_POLICY_KINDS.cluster.kind,
]);

export function gatePolicyProblems(request: Json): FieldError[] {
  const object = isObject(request.object) ? request.object : {};
  const structural = validateGatePolicy({
    apiVersion: `${GROUP}/${STORAGE_VERSION}`,
    kind: GATE_POLICY_KINDS.cluster.kind,
    metadata: {},
    spec: object.spec,
  });
  if (structural.length) return structural;
  const spec = object.spec as GatePolicySpecV2;
  const conditions: [string, string | undefined][] = [
    ['spec.match.condition', spec.match?.condition],
    ...spec.gates.map((gate, index): [string, string | undefined] => [
      `spec.gates[${index}].condition`,
      gate.condition,
    ]),
  ];
  return conditions.flatMap(([field, condition]) => {
    if (condition === undefined) return [];
    const compiled = compileCondition(condition, {}, GATE_VARIABLES);
    return 'problem' in compiled ? [{ field, message: compiled.problem }] : [];
  });
}
