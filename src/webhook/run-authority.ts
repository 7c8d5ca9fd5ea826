/**
 * No confused deputy. The operator creates Jobs with its own ServiceAccount, so a field that
 * decides which code runs (an image, a command) or as whom (a ServiceAccount, a mounted token)
 * would let a runbook's author run what RBAC does not let them run. Whoever sets such a field must
 * be allowed to create Jobs in the namespace the operator would run them in (a
 * SubjectAccessReview), and the operator's admission policy may pin images and ServiceAccounts
 * per namespace on top. Agents and templates named by a runbook were checked when their own
 * authors set them.
 */
import type { AdmissionPolicy, NamespacePolicy } from '../api/catalog.js';
import { isObject, sameJson, type Json } from '../api/json.js';
import type { FieldError } from '../api/validator.js';
import { describeAttributes, type Authorize, type Requester, type ResourceAttributes } from './requester.js';

export type AuthorityKind =
  | 'image'
  | 'command'
  | 'args'
  | 'serviceAccountName'
  | 'automountServiceAccountToken'
  | 'volumes'
  | 'secretEnv'
  | 'persistentVolumeClaim'
  | 'volumeClaimTemplate';

/** One field that decides what the operator runs, or as whom. */
export interface AuthorityField {
  field: string;
  kind: AuthorityKind;
  value: unknown;
}

const WHAT: Record<AuthorityKind, string> = {
  image: 'the image',
  command: 'the command',
  args: 'the arguments',
  serviceAccountName: 'the ServiceAccount',
  automountServiceAccountToken: 'a mounted ServiceAccount token',
  volumes: 'volumes (Secrets, ConfigMaps, claims)',
  secretEnv: 'environment from Secrets',
  persistentVolumeClaim: 'an existing PersistentVolumeClaim',
  volumeClaimTemplate: 'a PersistentVolumeClaim made per run',
};

/** The container fields of a stage or a catalog-like agent. */
const CONTAINER_KINDS: readonly AuthorityKind[] = [
  'image',
  'command',
  'args',
  'serviceAccountName',
  'automountServiceAccountToken',
];

/** The authority fields set on one container-like object (a stage, an agent, a pod template). */
function fieldsOf(
  node: unknown,
  at: string,
  kinds: readonly AuthorityKind[] = CONTAINER_KINDS,
): AuthorityField[] {
  if (!isObject(node)) return [];
  return kinds.flatMap((kind) => {
    const value = node[kind];
    if (value === undefined || value === null) return [];
    // Leaving the token unmounted is the default, and takes nothing.
    if (kind === 'automountServiceAccountToken' && value !== true) return [];
    return [{ field: `${at}.${kind}`, kind, value }];
  });
}

const entries = (node: unknown): [string, unknown][] => (isObject(node) ? Object.entries(node) : []);

/** What a runbook spec (or a template's runbook spec, at `at`) decides about the containers it runs. */
export function runbookAuthority(spec: unknown, at = 'spec'): AuthorityField[] {
  const agents = isObject(spec) && isObject(spec.agents) ? spec.agents : {};
  const pipeline = Array.isArray(agents.pipeline) ? (agents.pipeline as unknown[]) : [];
  const workspaces = isObject(spec) && Array.isArray(spec.workspaces) ? (spec.workspaces as unknown[]) : [];
  return [
    ...workspaces.flatMap((workspace, index) =>
      fieldsOf(workspace, `${at}.workspaces[${index}]`, ['persistentVolumeClaim', 'volumeClaimTemplate']),
    ),
    ...pipeline.flatMap((stage, index) => fieldsOf(stage, `${at}.agents.pipeline[${index}]`)),
    ...entries(agents.core).flatMap(([name, agent]) => fieldsOf(agent, `${at}.agents.core.${name}`)),
    ...entries(agents.deployment).flatMap(([name, agent]) =>
      fieldsOf(agent, `${at}.agents.deployment.${name}`),
    ),
  ];
}

/** What an Agent or ClusterAgent spec decides: its container, what it mounts and reads, and its Pod's identity. */
export function agentAuthority(spec: unknown, at = 'spec'): AuthorityField[] {
  const template = isObject(spec) ? spec.podTemplate : undefined;
  return [
    ...fieldsOf(spec, at, ['image', 'command', 'args', 'secretEnv']),
    ...fieldsOf(template, `${at}.podTemplate`, [
      'serviceAccountName',
      'automountServiceAccountToken',
      'volumes',
    ]),
  ];
}

/**
 * The fields of `now` that `before` did not already have with the same value: an update that
 * keeps what its earlier author set needs no new permission (Kubernetes' ratcheting).
 */
export function changedAuthority(now: AuthorityField[], before: AuthorityField[]): AuthorityField[] {
  return now.filter(
    (field) => !before.some((old) => old.field === field.field && sameJson(old.value, field.value)),
  );
}

/** The policy for objects of `namespace` (empty for cluster-scoped ones). */
export function namespacePolicy(
  policy: AdmissionPolicy | undefined,
  namespace: string,
): NamespacePolicy | undefined {
  const own = namespace && policy?.namespaces && Object.hasOwn(policy.namespaces, namespace);
  return own ? policy.namespaces?.[namespace] : policy?.default;
}

/** Whether `value` matches `pattern`, where * matches any run of characters (and nothing else is special). */
export function matchesPattern(value: string, pattern: string): boolean {
  const parts = pattern.split('*');
  const first = parts[0] ?? '';
  const last = parts[parts.length - 1] ?? '';
  if (parts.length === 1) return value === pattern;
  if (!value.startsWith(first) || value.length < first.length + last.length || !value.endsWith(last))
    return false;
  let from = first.length;
  const end = value.length - last.length;
  for (const middle of parts.slice(1, -1)) {
    const found = value.indexOf(middle, from);
    if (found < 0 || found + middle.length > end) return false;
    from = found + middle.length;
  }
  return true;
}

/** Fields that the namespace's pins refuse, each naming the pins. */
export function policyProblems(fields: AuthorityField[], pins: NamespacePolicy | undefined): FieldError[] {
  if (!pins) return [];
  // What each pinned kind of field is called, and the patterns it must match.
  const pinned: Partial<Record<AuthorityKind, [string, string[] | undefined]>> = {
    image: ['image', pins.allowedImages],
    serviceAccountName: ['ServiceAccount', pins.allowedServiceAccounts],
  };
  return fields.flatMap(({ field, kind, value }) => {
    const [noun, patterns] = pinned[kind] ?? [kind, undefined];
    if (!patterns || typeof value !== 'string') return [];
    if (patterns.some((pattern) => matchesPattern(value, pattern))) return [];
    return [
      {
        field,
        message: `${noun} ${value} is not allowed here: the operator's admission policy allows only ${patterns.join(', ')}`,
      },
    ];
  });
}

/** A refusal: 403 when RBAC says no, 422 when the policy does. */
export interface Refusal {
  code: 403 | 422;
  message: string;
}

export interface AuthorityCheck {
  /** The fields to check (already only the new or changed ones). */
  fields: AuthorityField[];
  requester: Requester;
  /** Where the operator would run them; empty for a cluster-scoped object (every namespace). */
  namespace: string;
  authorize: Authorize;
  policy: AdmissionPolicy | undefined;
}

/** What creating the Jobs directly would take. */
export const jobCreation = (namespace: string): ResourceAttributes => ({
  verb: 'create',
  group: 'batch',
  resource: 'jobs',
  namespace,
});

/** What making the claims of a claim template directly would take. */
const claimCreation = (namespace: string): ResourceAttributes => ({
  verb: 'create',
  group: '',
  resource: 'persistentvolumeclaims',
  namespace,
});

/** The permission a field needs: a claim template makes claims; everything else goes into a Job. */
const permissionFor = (kind: AuthorityKind) => (kind === 'volumeClaimTemplate' ? claimCreation : jobCreation);

/** Refuses fields the requester could not set on a Job (or a claim) of their own, or that the policy pins out. */
export async function checkAuthority(check: AuthorityCheck): Promise<Refusal | undefined> {
  const { fields, requester, namespace } = check;
  if (fields.length === 0) return undefined;
  const pinned = policyProblems(fields, namespacePolicy(check.policy, namespace));
  if (pinned.length) {
    return { code: 422, message: pinned.map((p) => `${p.field}: ${p.message}`).join('; ') };
  }
  for (const permission of [jobCreation, claimCreation]) {
    const needing = fields.filter((field) => permissionFor(field.kind) === permission);
    if (needing.length === 0) continue;
    const attributes = permission(namespace);
    const verdict = await check.authorize({ ...requester, attributes });
    if (verdict.allowed) continue;
    const what = [...new Set(needing.map((field) => WHAT[field.kind]))].join(', ');
    return {
      code: 403,
      message: `${needing.map((field) => field.field).join(', ')}: user ${requester.user} may not set ${what} that the operator ${permission === jobCreation ? 'runs' : 'makes'}: that needs ${describeAttributes(attributes)}, which RBAC does not grant${verdict.reason ? ` (${verdict.reason})` : ''}${permission === jobCreation ? '; name an Agent, a ClusterAgent or a catalog agent instead' : ''}`,
    };
  }
  return undefined;
}

/** The authority fields of an admission request's object and old object. */
export function requestAuthority(
  request: Json,
  authority: (spec: unknown) => AuthorityField[],
): AuthorityField[] {
  const spec = (object: unknown) => (isObject(object) ? object.spec : undefined);
  const now = authority(spec(request.object));
  if (request.operation !== 'UPDATE') return now;
  return changedAuthority(now, authority(spec(request.oldObject)));
}
