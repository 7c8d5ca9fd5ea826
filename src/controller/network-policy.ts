/**
 * The NetworkPolicy that confines an agent's Pods (its Agent's egress): it selects the agent's
 * Pods in one namespace and allows only the listed destinations, and DNS. It is applied before
 * the first Job of the agent there (and again whenever the egress changes), owned by the Agent or
 * ClusterAgent so it goes with it; agent-status.ts removes it when the egress is removed.
 */
import { LABEL_AGENT, LABEL_MANAGED_BY, MANAGED_BY } from '../api/labels.js';
import type { EgressSpec } from '../api/egress.js';
import { labelValue } from '../engine/model/naming.js';
import type { JobPlan } from '../engine/model/types.js';
import type { KubeHttp } from '../kube/http.js';

/** On each such NetworkPolicy: the agent it confines, so a removed egress finds its policies. */
export const LABEL_EGRESS_OF = 'i2s.studio/egress-of';

function egressRules(egress: EgressSpec) {
  const rules: Record<string, unknown>[] = egress.to.map((rule) => ({
    to: [{ ipBlock: { cidr: rule.cidr, ...(rule.except ? { except: rule.except } : {}) } }],
    ...(rule.ports
      ? { ports: rule.ports.map((port) => ({ port: port.port, protocol: port.protocol ?? 'TCP' })) }
      : {}),
  }));
  if (egress.dns !== false) {
    rules.push({
      ports: [
        { port: 53, protocol: 'UDP' },
        { port: 53, protocol: 'TCP' },
      ],
    });
  }
  return rules;
}

export function networkPolicyFor(
  namespace: string,
  plan: JobPlan & { egress: NonNullable<JobPlan['egress']> },
) {
  const { policy, egress, owner } = plan.egress;
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: {
      name: policy,
      namespace,
      labels: { [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_EGRESS_OF]: labelValue(plan.agent) },
      ...(owner ? { ownerReferences: [{ ...owner, blockOwnerDeletion: false }] } : {}),
    },
    spec: {
      podSelector: { matchLabels: { [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_AGENT]: labelValue(plan.agent) } },
      policyTypes: ['Egress'],
      egress: egressRules(egress),
    },
  };
}

/** Applies each agent's policy once per content: a reconcile that changes nothing costs no request. */
export class EgressPolicies {
  private readonly applied = new Map<string, string>();

  constructor(private readonly http: KubeHttp) {}

  async ensure(namespace: string, plan: JobPlan): Promise<void> {
    if (!plan.egress) return;
    const policy = networkPolicyFor(namespace, { ...plan, egress: plan.egress });
    const key = `${namespace}/${policy.metadata.name}`;
    const content = JSON.stringify(policy);
    if (this.applied.get(key) === content) return;
    await this.http.apply(
      `/apis/networking.k8s.io/v1/namespaces/${namespace}/networkpolicies/${policy.metadata.name}`,
      policy,
      true,
    );
    this.applied.set(key, content);
  }

  /** Forgets what was applied in a namespace, so the next Job applies it again (it was removed). */
  forget(namespace: string, name: string): void {
    this.applied.delete(`${namespace}/${name}`);
  }
}
