/**
 * Asks the API server (SelfSubjectAccessReview) whether the operator's credentials allow every
 * verb of its RBAC rules, so a missing permission stops the start with a message naming the
 * resource and the verb, instead of an informer that retries a forbidden list forever.
 */
import type { PolicyRule } from './rbac.js';
import type { KubeHttp } from '../kube/http.js';

export interface AccessNeed {
  rules: PolicyRule[];
  /** Where the rules must hold; all namespaces (or cluster scope) when absent. */
  namespace?: string;
}

interface Attributes {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  name?: string;
  namespace?: string;
}

function attributesOf({ rules, namespace }: AccessNeed): Attributes[] {
  return rules.flatMap((rule) =>
    rule.apiGroups.flatMap((group) =>
      rule.resources.flatMap((qualified) => {
        const [resource = qualified, subresource] = qualified.split('/');
        const names = rule.resourceNames ?? [undefined];
        return rule.verbs.flatMap((verb) =>
          names.map((name) => ({
            verb,
            group,
            resource,
            ...(subresource ? { subresource } : {}),
            ...(name ? { name } : {}),
            ...(namespace ? { namespace } : {}),
          })),
        );
      }),
    ),
  );
}

function describe(a: Attributes): string {
  const resource = `${a.resource}${a.subresource ? `/${a.subresource}` : ''}${a.group ? `.${a.group}` : ''}`;
  const where = a.namespace ? `in namespace ${a.namespace}` : 'cluster-wide';
  return `${a.verb} ${resource}${a.name ? ` ${a.name}` : ''} ${where}`;
}

/** Throws, listing every verb RBAC forbids; resolves when all are allowed. */
export async function checkAccess(http: KubeHttp, needs: AccessNeed[]): Promise<void> {
  const attributes = needs.flatMap(attributesOf);
  const answers = await Promise.all(
    attributes.map((resourceAttributes) =>
      http.request<{ status?: { allowed?: boolean } }>({
        method: 'POST',
        path: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: { resourceAttributes },
        },
      }),
    ),
  );
  const forbidden = attributes.filter((_, index) => answers[index]?.status?.allowed !== true);
  if (forbidden.length > 0) {
    throw new Error(
      `RBAC forbids what the operator needs: ${forbidden.map(describe).join('; ')}. ` +
        'Grant the rules of the agentrunbook-operator ClusterRole and Role (config/rbac, or the Helm chart).',
    );
  }
}
