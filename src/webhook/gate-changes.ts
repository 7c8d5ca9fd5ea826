/**
 * A gate decides who must approve before a stage runs: removing or changing one is as good as
 * deciding it. So an update needs the approve verb on the runbook when it removes or changes a
 * gate of spec.quality, or when it makes a gate policy that added gates to the run (its status
 * says which) stop matching the runbook (a label or the spec it reads changed). Adding gates
 * needs nothing more than editing the runbook.
 */
import { isDeepStrictEqual } from 'node:util';
import { isObject, type Json } from '../api/json.js';
import { APPROVE_VERB, GATE_POLICY_KINDS, GROUP, PLURAL, STORAGE_VERSION } from '../api/group.js';
import type { SpecV2, StatusV2 } from '../api/v2/runbook.js';
import type { GatePolicySpecV2 } from '../api/v2/gate-policy.js';
import { policyMatches, type GatePolicyRecord } from '../engine/spec/gate-policies.js';
import type { Read } from './gate-decisions.js';
import { describeAttributes, requesterOf, type Authorize } from './requester.js';

type GateLike = { name?: unknown };

const specOf = (object: unknown) => (isObject(object) && isObject(object.spec) ? object.spec : {});

const gatesOf = (object: unknown): GateLike[] => {
  const quality = specOf(object).quality;
  return isObject(quality) && Array.isArray(quality.gates) ? quality.gates.filter(isObject) : [];
};

/** The gates of the old spec that the new one removes or changes, by name. */
function loosenedGates(request: Json): string[] {
  if (request.operation !== 'UPDATE') return [];
  const next = new Map(gatesOf(request.object).map((gate) => [gate.name, gate]));
  return gatesOf(request.oldObject)
    .filter((gate) => !isDeepStrictEqual(next.get(gate.name), gate))
    .map((gate) => String(gate.name));
}

const labelsOf = (object: unknown): Record<string, string> => {
  const metadata = isObject(object) && isObject(object.metadata) ? object.metadata : {};
  return isObject(metadata.labels) ? (metadata.labels as Record<string, string>) : {};
};

/** The policies (kind/name) whose gates the run has, that the update makes stop matching. */
async function unmatchedPolicies(request: Json, read: Read): Promise<string[]> {
  if (request.operation !== 'UPDATE') return [];
  const { object, oldObject } = request;
  if (
    isDeepStrictEqual(labelsOf(object), labelsOf(oldObject)) &&
    isDeepStrictEqual(specOf(object), specOf(oldObject))
  )
    return [];
  const status = (isObject(oldObject) && isObject(oldObject.status) ? oldObject.status : {}) as StatusV2;
  const refs = [...new Set((status.gates ?? []).flatMap((gate) => (gate.policy ? [gate.policy] : [])))];
  const namespace = typeof request.namespace === 'string' ? request.namespace : '';
  const subject = { namespace, labels: labelsOf(object), spec: specOf(object) as unknown as SpecV2 };
  const unmatched: string[] = [];
  for (const ref of refs) {
    const [kind, name = ''] = ref.split('/');
    const cluster = kind === GATE_POLICY_KINDS.cluster.kind;
    const plural = cluster ? GATE_POLICY_KINDS.cluster.plural : GATE_POLICY_KINDS.namespaced.plural;
    const where = cluster ? '' : `/namespaces/${encodeURIComponent(namespace)}`;
    const policy = await read(
      `/apis/${GROUP}/${STORAGE_VERSION}${where}/${plural}/${encodeURIComponent(name)}`,
    );
    if (!policy || !isObject(policy.spec)) continue;
    const record: GatePolicyRecord = {
      kind: cluster ? 'ClusterGatePolicy' : 'GatePolicy',
      name,
      spec: policy.spec as unknown as GatePolicySpecV2,
    };
    if (!policyMatches(record, subject)) unmatched.push(ref);
  }
  return unmatched;
}

/** The refusal of an update that loosens gates its requester may not decide, or undefined. */
export async function gateChangeRefusal(
  request: Json,
  authorize: Authorize,
  read: Read,
): Promise<string | undefined> {
  const gates = loosenedGates(request);
  const policies = await unmatchedPolicies(request, read);
  if (!gates.length && !policies.length) return undefined;
  const namespace = typeof request.namespace === 'string' ? request.namespace : '';
  const name = typeof request.name === 'string' ? request.name : '';
  const attributes = { verb: APPROVE_VERB, group: GROUP, resource: PLURAL, namespace, name };
  const requester = requesterOf(request);
  const verdict = await authorize({ ...requester, attributes });
  if (verdict.allowed) return undefined;
  const what = gates.length
    ? `spec.quality.gates: removing or changing gate ${gates.join(', ')}`
    : `metadata.labels or spec: making ${policies.join(', ')} stop matching this runbook (it adds gates to its run)`;
  return `${what} is as good as deciding it, which needs ${describeAttributes(attributes)}; user ${requester.user} lacks it${verdict.reason ? ` (${verdict.reason})` : ''}`;
}
