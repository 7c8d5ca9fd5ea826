/**
 * Who sent an admission request (its userInfo), and the one question the webhook asks RBAC about
 * them: a SubjectAccessReview of one verb on one resource. Every check that keeps the operator
 * from doing for a user what the user could not do directly goes through here.
 */
import { isObject, type Json } from '../api/json.js';

export interface Requester {
  user: string;
  groups: string[];
  uid?: string;
  extra?: Record<string, string[]>;
}

/** A SubjectAccessReview's resourceAttributes; an empty namespace means all namespaces. */
export interface ResourceAttributes {
  verb: string;
  group: string;
  resource: string;
  namespace: string;
  name?: string;
}

export type AccessRequest = Requester & { attributes: ResourceAttributes };

export type Authorize = (request: AccessRequest) => Promise<{ allowed: boolean; reason?: string }>;

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];

/** The requester of an AdmissionReview's request, as the API server authenticated them. */
export function requesterOf(request: Json): Requester {
  const userInfo = isObject(request.userInfo) ? request.userInfo : {};
  const extra = isObject(userInfo.extra)
    ? Object.fromEntries(Object.entries(userInfo.extra).map(([key, value]) => [key, strings(value)]))
    : undefined;
  return {
    user: typeof userInfo.username === 'string' ? userInfo.username : '',
    groups: strings(userInfo.groups),
    ...(typeof userInfo.uid === 'string' ? { uid: userInfo.uid } : {}),
    ...(extra ? { extra } : {}),
  };
}

/** "create jobs.batch in namespace team" / "... in every namespace". */
export function describeAttributes(attributes: ResourceAttributes): string {
  const resource = attributes.group ? `${attributes.resource}.${attributes.group}` : attributes.resource;
  const where = attributes.namespace ? `in namespace ${attributes.namespace}` : 'in every namespace';
  return `${attributes.verb} on ${resource}${attributes.name ? ` ${attributes.name}` : ''} ${where}`;
}
