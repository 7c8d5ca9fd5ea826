/**
 * What the operator may do in the cluster, as data: config/rbac is generated from it, and the
 * integration tests run the operator under exactly these rules.
 */
import { GROUP, PLURAL } from '../api/group.js';

export const OPERATOR_NAME = 'agentrunbook-operator';
export const OPERATOR_NAMESPACE = 'agentrunbook-system';

export const OPERATOR_RULES = [
  { apiGroups: [GROUP], resources: [PLURAL], verbs: ['get', 'list', 'watch'] },
  { apiGroups: [GROUP], resources: [`${PLURAL}/status`], verbs: ['get', 'update', 'patch'] },
  // Setting blockOwnerDeletion on the Jobs' owner reference needs update on the owner's finalizers.
  { apiGroups: [GROUP], resources: [`${PLURAL}/finalizers`], verbs: ['update'] },
  { apiGroups: ['batch'], resources: ['jobs'], verbs: ['get', 'list', 'watch', 'create', 'delete'] },
  { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
];

export function rbacManifests(): Record<string, unknown>[] {
  const labels = { 'app.kubernetes.io/name': OPERATOR_NAME };
  return [
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: OPERATOR_NAME, namespace: OPERATOR_NAMESPACE, labels },
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: OPERATOR_NAME, labels },
      rules: OPERATOR_RULES,
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: OPERATOR_NAME, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: OPERATOR_NAME },
      subjects: [{ kind: 'ServiceAccount', name: OPERATOR_NAME, namespace: OPERATOR_NAMESPACE }],
    },
  ];
}
