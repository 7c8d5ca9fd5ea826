/**
 * The /validate review of every kind the webhook sees: each kind's own rules (a runbook's in
 * admission.ts, an agent's in api/agent-checks.ts), then whether the requester may decide what the
 * operator runs (run-authority.ts).
 */
import { isDeepStrictEqual } from 'node:util';
import { agentProblems, securityPolicyProblems } from '../api/agent-checks.js';
import { AGENT_KINDS, STORAGE_VERSION, GROUP, TEMPLATE_KINDS } from '../api/group.js';
import type { AdmissionPolicy } from '../api/catalog.js';
import { isObject, type Json } from '../api/json.js';
import { jsonShapeProblem } from '../api/limits.js';
import type { AgentSpecV2 } from '../api/v2/agent.js';
import { validateAgent, type FieldError } from '../api/validator.js';
import { reviewAdmission } from './admission.js';
import { gateChangeRefusal } from './gate-changes.js';
import { uncacheableAgentProblems, type CatalogAgentRef } from './cache-checks.js';
import { childRunbookReview, type ChildReview } from './child-checks.js';
import type { SpecV2 } from '../api/v2/runbook.js';
import type { Read } from './gate-decisions.js';
import { GATE_POLICY_KIND_SET, gatePolicyProblems } from './gate-policy-checks.js';
import { deny, fieldList, respond } from './admission-response.js';
import { requesterOf, type Authorize } from './requester.js';
import {
  agentAuthority,
  checkAuthority,
  namespacePolicy,
  requestAuthority,
  runbookAuthority,
  type AuthorityField,
} from './run-authority.js';

/** What admission reads of the operator's configuration. */
export interface AdmissionConfig {
  /** The images and ServiceAccounts runbooks and agents may set, per namespace. */
  policy?: AdmissionPolicy;
  /** The catalog file's agents, for the ones that may not be cached. */
  catalogAgents?: CatalogAgentRef[];
}

export interface ValidationDeps extends AdmissionConfig {
  authorize: Authorize;
  read: Read;
}

const templateAuthority = (spec: unknown) =>
  runbookAuthority(
    isObject(spec) && isObject(spec.runbook) ? spec.runbook.spec : undefined,
    'spec.runbook.spec',
  );

const TEMPLATE_KIND_SET = new Set<string>([TEMPLATE_KINDS.namespaced.kind, TEMPLATE_KINDS.cluster.kind]);
const AGENT_KIND_SET = new Set<string>([AGENT_KINDS.namespaced.kind, AGENT_KINDS.cluster.kind]);

const kindOf = (request: Json) =>
  isObject(request.kind) && typeof request.kind.kind === 'string' ? request.kind.kind : '';

/** An agent's own rules: the schema (a direct request was not checked), then what the API server cannot check. */
function agentReview(request: Json, namespace: string, policy: AdmissionPolicy | undefined): FieldError[] {
  const object = isObject(request.object) ? request.object : {};
  const structural = validateAgent({
    apiVersion: `${GROUP}/${STORAGE_VERSION}`,
    kind: AGENT_KINDS.namespaced.kind,
    metadata: {},
    spec: object.spec,
  });
  if (structural.length) return structural;
  const spec = object.spec as AgentSpecV2;
  return [
    ...agentProblems(spec, 'spec'),
    ...securityPolicyProblems(spec, 'spec', namespacePolicy(policy, namespace)),
  ];
}

/** An Agent decides everything its Pods run: any change of its spec needs what creating them would. */
function agentRequestAuthority(request: Json): AuthorityField[] {
  const spec = (object: unknown) => (isObject(object) ? object.spec : undefined);
  const unchanged =
    request.operation === 'UPDATE' && isDeepStrictEqual(spec(request.object), spec(request.oldObject));
  return unchanged ? [] : agentAuthority(spec(request.object));
}

/**
 * A runbook write that asks to cache a stage whose agent forbids it. Agents are read as the
 * operator resolves them; if they cannot be read, the write passes and the engine, which never
 * caches such an agent, has the last word.
 */
async function uncacheableRequest(
  request: Json,
  namespace: string,
  deps: ValidationDeps,
): Promise<FieldError[]> {
  const spec = (object: unknown) => (isObject(object) && isObject(object.spec) ? object.spec : undefined);
  const next = spec(request.object);
  if (!next || (request.operation === 'UPDATE' && isDeepStrictEqual(next, spec(request.oldObject))))
    return [];
  try {
    return await uncacheableAgentProblems(next as SpecV2, namespace, deps.read, deps.catalogAgents ?? []);
  } catch {
    return [];
  }
}

/** The children a runbook write runs as stages: cycles and depth refused, what named runbooks decide. */
async function childRequest(request: Json, namespace: string, deps: ValidationDeps): Promise<ChildReview> {
  const spec = (object: unknown) => (isObject(object) && isObject(object.spec) ? object.spec : undefined);
  const next = spec(request.object);
  if (!next || (request.operation === 'UPDATE' && isDeepStrictEqual(next, spec(request.oldObject))))
    return { problems: [], authority: [] };
  const metadata =
    isObject(request.object) && isObject(request.object.metadata) ? request.object.metadata : {};
  const name =
    typeof request.name === 'string' && request.name
      ? request.name
      : typeof metadata.name === 'string'
        ? metadata.name
        : '';
  return childRunbookReview(next as SpecV2, name, namespace, deps.read);
}

export async function reviewValidation(body: unknown, deps: ValidationDeps): Promise<Json> {
  const request = isObject(body) && isObject(body.request) ? body.request : {};
  const uid = typeof request.uid === 'string' ? request.uid : '';
  const kind = kindOf(request);
  const namespace = typeof request.namespace === 'string' ? request.namespace : '';
  const isTemplate = TEMPLATE_KIND_SET.has(kind);
  const isAgent = AGENT_KIND_SET.has(kind);
  // A request straight to the webhook port is unchecked by the API server: bound it before walking it.
  for (const [at, object] of [
    ['object', request.object],
    ['oldObject', request.oldObject],
  ] as const) {
    const shape =
      (isTemplate || isAgent || GATE_POLICY_KIND_SET.has(kind)) && object !== undefined
        ? jsonShapeProblem(object, [at])
        : undefined;
    if (shape) return deny(uid, 400, `${shape.field} ${shape.message}`);
  }
  let review: Json;
  let fields: AuthorityField[];
  if (GATE_POLICY_KIND_SET.has(kind)) {
    const problems = gatePolicyProblems(request);
    return problems.length ? deny(uid, 422, fieldList(problems)) : respond(uid, { allowed: true });
  }
  if (isAgent) {
    const problems = agentReview(request, namespace, deps.policy);
    if (problems.length) return deny(uid, 422, fieldList(problems));
    review = respond(uid, { allowed: true });
    fields = agentRequestAuthority(request);
  } else if (isTemplate) {
    review = respond(uid, { allowed: true });
    fields = requestAuthority(request, templateAuthority);
  } else {
    // Runbooks: the webhook was registered for them first, and reviews without a kind are theirs.
    review = reviewAdmission(body);
    const response = isObject(review.response) ? review.response : {};
    if (response.allowed !== true) return review;
    const loosened = await gateChangeRefusal(request, deps.authorize, deps.read);
    if (loosened) return deny(uid, 403, loosened);
    const uncacheable = await uncacheableRequest(request, namespace, deps);
    if (uncacheable.length) return deny(uid, 422, fieldList(uncacheable));
    const children = await childRequest(request, namespace, deps);
    if (children.problems.length) return deny(uid, 422, fieldList(children.problems));
    fields = [...requestAuthority(request, (spec) => runbookAuthority(spec)), ...children.authority];
  }
  const refusal = await checkAuthority({
    fields,
    requester: requesterOf(request),
    namespace,
    authorize: deps.authorize,
    policy: deps.policy,
  });
  return refusal ? deny(uid, refusal.code, refusal.message) : review;
}
