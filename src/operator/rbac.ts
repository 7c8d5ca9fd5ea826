/**
 * What the operator may do in the cluster, as data: config/rbac and the chart's RBAC are generated
 * from it, the operator checks at start that it has all of it, and the integration tests run the
 * operator under exactly these rules.
 */
import {
  AGENT_KINDS,
  APPROVE_VERB,
  APPROVER_ROLE,
  CACHE_KIND,
  CRD_NAME,
  DECISION_KIND,
  GATE_POLICY_KINDS,
  GROUP,
  PLURAL,
  TEMPLATE_KINDS,
} from '../api/group.js';

export const OPERATOR_NAME = 'agentrunbook-operator';
export const OPERATOR_NAMESPACE = 'agentrunbook-system';

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

/** What the reconciler needs, in every namespace it watches. */
export const CONTROLLER_RULES: PolicyRule[] = [
  // update: the storage-version migration rewrites every runbook once.
  // create and patch: child runbooks (stages that run a runbook), and cancelling them.
  { apiGroups: [GROUP], resources: [PLURAL], verbs: ['get', 'list', 'watch', 'update', 'create', 'patch'] },
  { apiGroups: [GROUP], resources: [`${PLURAL}/status`], verbs: ['get', 'update', 'patch'] },
  // Setting blockOwnerDeletion on the Jobs' owner reference needs update on the owner's finalizers.
  { apiGroups: [GROUP], resources: [`${PLURAL}/finalizers`], verbs: ['update'] },
  { apiGroups: ['batch'], resources: ['jobs'], verbs: ['get', 'list', 'watch', 'create', 'delete'] },
  { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
  // A report too large for the termination message is read from the agent's log.
  { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
  { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
  // Outputs too large for the status are kept in ConfigMaps; a new run deletes its past runs' ones.
  { apiGroups: [''], resources: ['configmaps'], verbs: ['create', 'delete', 'deletecollection'] },
  // Each spec of a runbook is kept as a ControllerRevision it owns.
  {
    apiGroups: ['apps'],
    resources: ['controllerrevisions'],
    verbs: ['get', 'list', 'create', 'patch', 'delete'],
  },
  // spec.template: the templates a runbook may be made from; the Agents its stages name.
  {
    apiGroups: [GROUP],
    resources: [TEMPLATE_KINDS.namespaced.plural, AGENT_KINDS.namespaced.plural],
    verbs: ['get', 'list', 'watch'],
  },
  // An Agent's egress becomes a NetworkPolicy selecting its Pods; removed with the egress.
  {
    apiGroups: ['networking.k8s.io'],
    resources: ['networkpolicies'],
    // Server-side apply of a new object needs create as well as patch.
    verbs: ['get', 'list', 'create', 'patch', 'delete'],
  },
  // The claims workspaces make for each run, removed with the run's history.
  { apiGroups: [''], resources: ['persistentvolumeclaims'], verbs: ['create', 'deletecollection'] },
  // The decisions on runbooks' gates, and the gates policies add.
  {
    apiGroups: [GROUP],
    resources: [DECISION_KIND.plural, GATE_POLICY_KINDS.namespaced.plural],
    verbs: ['get', 'list', 'watch'],
  },
  // Stage results kept for reuse: made, read, and removed when they expire or a namespace has too many.
  {
    apiGroups: [GROUP],
    resources: [CACHE_KIND.plural],
    verbs: ['get', 'list', 'watch', 'create', 'delete'],
  },
  // Each Agent's status: accepted, used by, circuit breaker.
  { apiGroups: [GROUP], resources: [`${AGENT_KINDS.namespaced.plural}/status`], verbs: ['patch'] },
];

/** The cluster-wide template library and ClusterAgents, read whichever namespaces the operator watches. */
export const CLUSTER_TEMPLATE_RULES: PolicyRule[] = [
  {
    apiGroups: [GROUP],
    resources: [TEMPLATE_KINDS.cluster.plural, AGENT_KINDS.cluster.plural, GATE_POLICY_KINDS.cluster.plural],
    verbs: ['get', 'list', 'watch'],
  },
  { apiGroups: [GROUP], resources: [`${AGENT_KINDS.cluster.plural}/status`], verbs: ['patch'] },
];

/** The webhook's cluster-scoped objects: its CA bundle goes into them, and storedVersions is trimmed. */
export const WEBHOOK_RULES: PolicyRule[] = [
  {
    apiGroups: ['apiextensions.k8s.io'],
    resources: ['customresourcedefinitions', 'customresourcedefinitions/status'],
    resourceNames: [CRD_NAME],
    verbs: ['get', 'patch', 'update'],
  },
  {
    apiGroups: ['admissionregistration.k8s.io'],
    resources: ['validatingwebhookconfigurations', 'mutatingwebhookconfigurations'],
    verbs: ['get', 'create', 'update', 'patch'],
  },
  // Whether the user who approves or rejects a gate may do so.
  { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
];

/** Keeping the template library (--template-library) in the cluster. */
export const TEMPLATE_LIBRARY_RULES: PolicyRule[] = [
  { apiGroups: [GROUP], resources: [TEMPLATE_KINDS.cluster.plural], verbs: ['create', 'patch'] },
];

/** The agents a chart installs (--agent-library), applied by the leader. */
export const AGENT_LIBRARY_RULES: PolicyRule[] = [
  {
    apiGroups: [GROUP],
    resources: [AGENT_KINDS.namespaced.plural, AGENT_KINDS.cluster.plural],
    verbs: ['create', 'patch'],
  },
];

export const OPERATOR_RULES: PolicyRule[] = [
  ...CONTROLLER_RULES,
  ...CLUSTER_TEMPLATE_RULES,
  ...TEMPLATE_LIBRARY_RULES,
  ...AGENT_LIBRARY_RULES,
  ...WEBHOOK_RULES,
];

/**
 * What an approver needs: to read runbooks and their Events, make GateDecisions, and the approve
 * verb the webhook checks. Nothing in it changes a runbook. Bind it with a RoleBinding per
 * namespace, or a ClusterRoleBinding.
 */
export const APPROVER_RULES: PolicyRule[] = [
  { apiGroups: [GROUP], resources: [PLURAL], verbs: ['get', 'list', 'watch', APPROVE_VERB] },
  { apiGroups: [GROUP], resources: [DECISION_KIND.plural], verbs: ['get', 'list', 'watch', 'create'] },
  { apiGroups: [''], resources: ['events'], verbs: ['get', 'list', 'watch'] },
];

/** In the operator's own namespace: the Secret with the webhook's certificates. */
export const WEBHOOK_NAMESPACE_RULES: PolicyRule[] = [
  { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'create', 'update'] },
];

/** In the operator's own namespace: the leader-election Lease. */
export const LEADER_ELECTION_RULES: PolicyRule[] = [
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
];

export const OPERATOR_NAMESPACE_RULES: PolicyRule[] = [...WEBHOOK_NAMESPACE_RULES, ...LEADER_ELECTION_RULES];

/** What the operator needs cluster-wide when the namespaced rules are granted by a Role instead. */
export const CLUSTER_SCOPED_OPERATOR_RULES: PolicyRule[] = OPERATOR_RULES.filter(
  (rule) => !CONTROLLER_RULES.includes(rule),
);

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'update', 'patch', 'delete', 'deletecollection'];
const NAMESPACED_KINDS = [
  PLURAL,
  TEMPLATE_KINDS.namespaced.plural,
  AGENT_KINDS.namespaced.plural,
  DECISION_KIND.plural,
  GATE_POLICY_KINDS.namespaced.plural,
  CACHE_KIND.plural,
];

/**
 * ClusterRoles aggregated into Kubernetes' own view, edit and admin roles, so that whoever may
 * read, edit or administer a namespace may do the same with its runbooks. Each is labelled into
 * the roles above it too (the built-in ones aggregate only their own label).
 */
export const AGGREGATED_ROLES: {
  suffix: 'view' | 'edit' | 'admin';
  aggregateTo: string[];
  rules: PolicyRule[];
}[] = [
  {
    // Read runbooks, their templates, agents, decisions, policies and cached results.
    suffix: 'view',
    aggregateTo: ['view', 'edit', 'admin'],
    rules: [{ apiGroups: [GROUP], resources: [...NAMESPACED_KINDS, `${PLURAL}/status`], verbs: READ }],
  },
  {
    // Write runbooks, templates and agents. Not gates: deciding one is admin's (or the approver
    // role's); not cached results, whose outputs later runs take as a stage's own.
    suffix: 'edit',
    aggregateTo: ['edit', 'admin'],
    rules: [
      {
        apiGroups: [GROUP],
        resources: [PLURAL, TEMPLATE_KINDS.namespaced.plural, AGENT_KINDS.namespaced.plural],
        verbs: WRITE,
      },
    ],
  },
  {
    // Decide gates, set the policies that add gates, and clear cached results.
    suffix: 'admin',
    aggregateTo: ['admin'],
    rules: [
      { apiGroups: [GROUP], resources: [PLURAL], verbs: [APPROVE_VERB] },
      { apiGroups: [GROUP], resources: [DECISION_KIND.plural], verbs: ['create'] },
      { apiGroups: [GROUP], resources: [GATE_POLICY_KINDS.namespaced.plural], verbs: WRITE },
      { apiGroups: [GROUP], resources: [CACHE_KIND.plural], verbs: ['delete', 'deletecollection'] },
    ],
  },
];

/** The aggregated ClusterRoles, each named `<prefix>-<suffix>`. */
export function aggregatedRoles(prefix: string, labels: Record<string, string>): Record<string, unknown>[] {
  return AGGREGATED_ROLES.map(({ suffix, aggregateTo, rules }) => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: {
      name: `${prefix}-${suffix}`,
      labels: {
        ...labels,
        ...Object.fromEntries(
          aggregateTo.map((role) => [`rbac.authorization.k8s.io/aggregate-to-${role}`, 'true']),
        ),
      },
    },
    rules,
  }));
}

/** The prefix of the aggregated ClusterRoles install.yaml makes: agentrunbook-view, -edit, -admin. */
export const AGGREGATED_ROLE_PREFIX = 'agentrunbook';

export function rbacManifests(namespace = OPERATOR_NAMESPACE): Record<string, unknown>[] {
  const labels = { 'app.kubernetes.io/name': OPERATOR_NAME };
  const subjects = [{ kind: 'ServiceAccount', name: OPERATOR_NAME, namespace }];
  return [
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: OPERATOR_NAME, namespace, labels },
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: OPERATOR_NAME, labels },
      rules: OPERATOR_RULES,
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: APPROVER_ROLE, labels },
      rules: APPROVER_RULES,
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: OPERATOR_NAME, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: OPERATOR_NAME },
      subjects,
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: OPERATOR_NAME, namespace, labels },
      rules: OPERATOR_NAMESPACE_RULES,
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: OPERATOR_NAME, namespace, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: OPERATOR_NAME },
      subjects,
    },
    ...aggregatedRoles(AGGREGATED_ROLE_PREFIX, labels),
  ];
}
