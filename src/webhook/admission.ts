/** The webhook's reviews: ConversionReview (/convert) and AdmissionReview (/validate, /mutate, /decide). */
import { isDeepStrictEqual } from 'node:util';
import { convertRunbook, V1, V2 } from '../api/conversion.js';
import { isObject, type Json } from '../api/json.js';
import { jsonShapeProblem } from '../api/limits.js';
import { KIND } from '../api/group.js';
import type { SpecV2 } from '../api/v2/runbook.js';
import { validateAgentRunbook, type FieldError } from '../api/validator.js';
import { analyzeRunbook } from '../generator/optimize.js';
import { fieldList } from './admission-response.js';
import { settingWarnings, versionWarnings } from './runbook-warnings.js';
import { validateRunbookSpec } from './validate-runbook.js';
import { crdRuleProblems } from '../engine/spec/crd-rules.js';
import { AgentRunbook } from '../api/v2/runbook.js';
import { v1Paths } from '../api/v1/field-paths.js';

/** The review each path takes: anything else is not a review at all. */
export const REVIEW_KINDS = {
  '/convert': { kind: 'ConversionReview', apiVersion: 'apiextensions.k8s.io/v1' },
  '/validate': { kind: 'AdmissionReview', apiVersion: 'admission.k8s.io/v1' },
  '/mutate': { kind: 'AdmissionReview', apiVersion: 'admission.k8s.io/v1' },
  '/decide': { kind: 'AdmissionReview', apiVersion: 'admission.k8s.io/v1' },
} as const;

const shown = (value: unknown) => (value === undefined ? 'nothing' : JSON.stringify(value).slice(0, 64));

/**
 * Why a body is not a review of the expected kind, apiVersion and request uid (which the answer
 * must echo); the server answers such a body with 400 instead of a review.
 */
export function reviewShapeProblem(
  body: unknown,
  expected: { kind: string; apiVersion: string },
): string | undefined {
  if (!isObject(body)) return `the body is not a JSON object but ${shown(body)}`;
  if (body.kind !== expected.kind || body.apiVersion !== expected.apiVersion) {
    return `expected a ${expected.kind} of ${expected.apiVersion}, got kind ${shown(body.kind)} of apiVersion ${shown(body.apiVersion)}`;
  }
  const request = body.request;
  if (!isObject(request) || typeof request.uid !== 'string' || request.uid === '') {
    return `the ${expected.kind} has no request.uid`;
  }
  return undefined;
}

/** The request of a review, and its uid (empty when the review is too broken to have one). */
function requestOf(body: unknown): { request: Json | undefined; uid: string } {
  const request = isObject(body) && isObject(body.request) ? body.request : undefined;
  return { request, uid: typeof request?.uid === 'string' ? request.uid : '' };
}

/** Converts every object of a ConversionReview; a malformed review gets a failed response, never an exception. */
export function reviewConversion(body: unknown): Json {
  const { request, uid } = requestOf(body);
  const fail = (message: string) => ({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'ConversionReview',
    response: { uid, convertedObjects: [], result: { status: 'Failure', message } },
  });
  if (!request) return fail('the ConversionReview has no request');
  if (typeof request.desiredAPIVersion !== 'string')
    return fail('the ConversionReview request has no desiredAPIVersion');
  if (!Array.isArray(request.objects)) return fail('the ConversionReview request has no objects');
  const desired = request.desiredAPIVersion;
  try {
    const convertedObjects = request.objects.map((object, index) => {
      if (!isObject(object)) throw new Error(`objects[${index}] is not an object`);
      const shape = jsonShapeProblem(object, [`objects[${index}]`]);
      if (shape) throw new Error(`${shape.field} ${shape.message}`);
      return convertRunbook(object, desired);
    });
    return {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'ConversionReview',
      response: { uid, convertedObjects, result: { status: 'Success' } },
    };
  } catch (error) {
    return fail(`conversion to ${desired} failed: ${(error as Error).message}`);
  }
}

/**
 * The schema's verdict on a spec. The API server checks it before calling the webhook, but a
 * request straight to the webhook port has not been checked: the semantic checks rely on it.
 */
function schemaProblems(spec: unknown): FieldError[] {
  return validateAgentRunbook({ apiVersion: V2, kind: KIND, metadata: {}, spec });
}

/** Most optimizer findings returned as warnings: the API server keeps only a few kilobytes of them. */
const MAX_FINDING_WARNINGS = 5;

function optimizerWarnings(spec: SpecV2): string[] {
  const findings = analyzeRunbook(spec);
  const shown = findings
    .slice(0, MAX_FINDING_WARNINGS)
    .map((finding) => `${finding.field}: ${finding.message}`);
  const more = findings.length - shown.length;
  return more > 0
    ? [...shown, `and ${more} more optimizer findings: agentrunbook optimize lists them`]
    : shown;
}

/**
 * Every admission rule's verdict on a spec that passed the schema, and the warnings it gets (on an
 * update, `old` is the spec it replaces). `agentrunbook validate` asks the same.
 */
export function judgeSpec(spec: SpecV2, old?: SpecV2): { problems: FieldError[]; warnings: string[] } {
  const problems = validateRunbookSpec(spec);
  if (problems.length) return { problems, warnings: [] };
  return {
    problems,
    warnings: [
      ...settingWarnings(spec),
      ...optimizerWarnings(spec),
      ...(old ? versionWarnings(old, spec) : []),
    ],
  };
}

/** Validates an AgentRunbook create or update (sent as v2: the webhook registers for v2 only). */
export function reviewAdmission(body: unknown): Json {
  const { request, uid } = requestOf(body);
  const respond = (response: Json) => ({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    response: { uid, ...response },
  });
  const object = isObject(request?.object) ? request.object : undefined;
  const spec = object && isObject(object.spec) ? (object.spec as SpecV2) : undefined;
  if (!object || !spec || !isObject(spec.agents)) {
    return respond({
      allowed: false,
      status: {
        code: 400,
        reason: 'BadRequest',
        message: 'the AdmissionReview carries no AgentRunbook spec',
      },
    });
  }
  const structural = schemaProblems(spec);
  if (structural.length) {
    return respond({
      allowed: false,
      status: { code: 422, reason: 'Invalid', message: fieldList(structural) },
    });
  }
  const oldSpec = isObject(request?.oldObject) ? request.oldObject.spec : undefined;
  const old = oldSpec !== undefined && schemaProblems(oldSpec).length === 0 ? (oldSpec as SpecV2) : undefined;
  // Ratcheting, as Kubernetes does: an update that leaves the spec alone (an annotation, a label,
  // the storage migration's rewrite) is not judged again.
  if (request?.operation === 'UPDATE' && old && isDeepStrictEqual(old, spec))
    return respond({ allowed: true });
  const sentAsV1 = isObject(request?.requestKind) && request.requestKind.version === 'v1';
  const judged = judgeSpec(spec, request?.operation === 'UPDATE' ? old : undefined);
  // The API server checked a v1 request against v1's schema: v2's rules are checked here.
  const problems = sentAsV1
    ? [...crdRuleProblems(AgentRunbook, object, ''), ...judged.problems]
    : judged.problems;
  // Said at the fields the author wrote: a v1 request's own paths.
  const v1 = sentAsV1 ? convertRunbook(object, V1) : undefined;
  const asSent = (text: string) => (v1 ? v1Paths(text, object, v1) : text);
  if (problems.length) {
    return respond({
      allowed: false,
      status: {
        code: 422,
        reason: 'Invalid',
        message: asSent(fieldList(problems)),
      },
    });
  }
  const warnings = judged.warnings.map(asSent);
  return respond({ allowed: true, ...(warnings.length ? { warnings } : {}) });
}
