/**
 * What the operator may do in the cluster, as data: config/rbac is generated from it, and the
 * integration tests run the operator under exactly these rules.
 */
import { CRD_NAME, GROUP, PLURAL } from '../api/group.js';

export const OPERATOR_NAME = 'agentrunbook-operator';
export const OPERATOR_NAMESPACE = 'agentrunbook-system';

export const OPERATOR_RULES = [
  // update: the storage-version migration rewrites every runbook once.
  { apiGroups: [GROUP], resources: [PLURAL], verbs: ['get', 'list', 'watch', 'update'] },
  { apiGroups: [GROUP], resources: [`${PLURAL}/status`], verbs: ['get', 'update', 'patch'] },
  // Setting blockOwnerDeletion on the Jobs' owner reference needs update on the owner's finalizers.
  { apiGroups: [GROUP], resources: [`${PLURAL}/finalizers`], verbs: ['update'] },
  { apiGroups: ['batch'], resources: ['jobs'], verbs: ['get', 'list', 'watch', 'create', 'delete'] },
  { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
  // The webhook: its CA bundle goes into the CRD's conversion config, and storedVersions is trimmed.
  {
    apiGroups: ['apiextensions.k8s.io'],
    resources: ['customresourcedefinitions', 'customresourcedefinitions/status'],
    resourceNames: [CRD_NAME],
    verbs: ['get', 'patch', 'update'],
  },
  {
    apiGroups: ['admissionregistration.k8s.io'],
    resources: ['validatingwebhookconfigurations'],
    verbs: ['get', 'create', 'update'],
  },
];

/** Rules in the operator's own namespace only: the Secret with the webhook's certificates. */
export const OPERATOR_NAMESPACE_RULES = [
  { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'create', 'update'] },
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
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: OPERATOR_NAME, namespace: OPERATOR_NAMESPACE, labels },
      rules: OPERATOR_NAMESPACE_RULES,
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: OPERATOR_NAME, namespace: OPERATOR_NAMESPACE, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: OPERATOR_NAME },
      subjects: [{ kind: 'ServiceAccount', name: OPERATOR_NAME, namespace: OPERATOR_NAMESPACE }],
    },
  ];
}
