/**
 * The operator's info ConfigMap, as Tekton's tekton-pipelines-info: its version, readable by every
 * authenticated user (a Role on that one ConfigMap), so that `agentrunbook version` can say which
 * operator a cluster runs.
 */
import { OPERATOR_NAME, OPERATOR_NAMESPACE } from './rbac.js';

export const OPERATOR_INFO_NAME = `${OPERATOR_NAME}-info`;

export function operatorInfoManifests(
  version: string,
  namespace = OPERATOR_NAMESPACE,
  name = OPERATOR_INFO_NAME,
): Record<string, unknown>[] {
  const labels = { 'app.kubernetes.io/name': OPERATOR_NAME, 'app.kubernetes.io/component': 'info' };
  const metadata = { name, namespace, labels };
  return [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata, data: { version } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata,
      rules: [{ apiGroups: [''], resources: ['configmaps'], resourceNames: [name], verbs: ['get'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata,
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:authenticated' }],
    },
  ];
}
