/**
 * The gate decisions and gate policies a runbook's run reads, from the informer caches: the
 * GateDecisions it owns (indexed by owner uid) and the policies of its namespace and the cluster.
 */
import { GATE_POLICY_KINDS } from '../api/group.js';
import type { SharedInformer } from '../kube/informer.js';
import type { CachedDecision, CachedGatePolicy } from '../kube/types.js';
import type { DecisionRecord } from '../engine/spec/gates.js';
import type { GatePolicyRecord } from '../engine/spec/gate-policies.js';

const BY_OWNER = 'owner';

/** The most decisions one runbook's run reads: its approvers are people, and a spammer is bounded. */
const MAX_DECISIONS_READ = 256;

export class GateDirectory {
  constructor(
    private readonly decisions: SharedInformer<CachedDecision>,
    private readonly policies: SharedInformer<CachedGatePolicy>,
    private readonly clusterPolicies: SharedInformer<CachedGatePolicy>,
  ) {
    decisions.addIndex(BY_OWNER, (decision) =>
      (decision.metadata.ownerReferences ?? []).map((owner) => owner.uid),
    );
  }

  /** The decisions made on the runbook with this uid, as the webhook recorded them. */
  decisionsOf(uid: string): DecisionRecord[] {
    return this.decisions
      .byIndex(BY_OWNER, uid)
      .slice(-MAX_DECISIONS_READ)
      .flatMap(({ metadata, spec }) =>
        // Only the webhook fills in user and generation: one without them did not pass it.
        spec.user === undefined || spec.generation === undefined
          ? []
          : [
              {
                name: metadata.name,
                gate: spec.gate,
                decision: spec.decision,
                user: spec.user,
                groups: spec.groups ?? [],
                ...(spec.comment ? { comment: spec.comment } : {}),
                generation: spec.generation,
                time: metadata.creationTimestamp ?? '',
              },
            ],
      );
  }

  /** The policies that may add gates to a runbook in this namespace. */
  policiesFor(namespace: string): GatePolicyRecord[] {
    const records: GatePolicyRecord[] = [];
    for (const policy of this.clusterPolicies.values())
      records.push({ kind: GATE_POLICY_KINDS.cluster.kind, name: policy.metadata.name, spec: policy.spec });
    for (const policy of this.policies.values()) {
      if (policy.metadata.namespace === namespace)
        records.push({
          kind: GATE_POLICY_KINDS.namespaced.kind,
          name: policy.metadata.name,
          spec: policy.spec,
        });
    }
    return records;
  }
}
