import type { ErrorObject, ValidateFunction } from 'ajv';
import { schemaAjv } from './ajv.js';
import { DNS_SUBDOMAIN_PATTERN, IMAGE_PATTERN, MAX_DURATION_TEXT } from './grammar.js';
import { jsonShapeProblem } from './limits.js';
import { AgentRunbook } from './v2/runbook.js';
import { AgentRunbookV1Schema } from './v1/runbook.js';
import { AgentRunbookTemplate } from './v2/template.js';
import { Agent } from './v2/agent.js';
import { ClusterGatePolicy } from './v2/gate-policy.js';

export interface FieldError {
  /** Field path in kubectl's notation, e.g. spec.agents.pipeline[1].name. */
  field: string;
  message: string;
}

let compiled: ValidateFunction | undefined;
let compiledV1: ValidateFunction | undefined;

/** Converts ajv's JSON pointer (/spec/agents/pipeline/1/name) to spec.agents.pipeline[1].name. */
export function fieldPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part), '');
}

/** Patterns whose rule a person reads better in words than as the regular expression. */
const PATTERN_NAMES = new Map([
  [IMAGE_PATTERN, 'an image reference: [registry[:port]/]name[:tag][@digest], lowercase path'],
  [DNS_SUBDOMAIN_PATTERN, 'a Kubernetes name: lowercase letters, digits, - and . (a DNS subdomain)'],
]);

export function toFieldError(error: ErrorObject): FieldError {
  let field = fieldPath(error.instancePath);
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'additionalProperties') {
    const extra = String(params.additionalProperty);
    return { field: field ? `${field}.${extra}` : extra, message: 'unknown field' };
  }
  if (error.keyword === 'required') {
    const missing = String(params.missingProperty);
    field = field ? `${field}.${missing}` : missing;
    return { field, message: 'required field is missing' };
  }
  if (error.keyword === 'format' && params.format === 'duration') {
    return { field, message: `must be a duration of at most ${MAX_DURATION_TEXT}` };
  }
  const named = error.keyword === 'pattern' ? PATTERN_NAMES.get(String(params.pattern)) : undefined;
  if (named) return { field, message: `must be ${named}` };
  return { field: field || '(root)', message: error.message ?? error.keyword };
}

function boundedThenValid(validate: ValidateFunction, object: unknown): FieldError[] {
  const shape = jsonShapeProblem(object);
  if (shape) return [shape];
  if (validate(object)) return [];
  // An if/then/else (a value of two shapes) adds a summary error beside the shape's own errors.
  return (validate.errors ?? []).filter((error) => error.keyword !== 'if').map(toFieldError);
}

/**
 * Checks an object against the bounds of limits.ts, then the v2 schema (structure, types,
 * patterns, ranges). The CEL rules the API server evaluates are not checked here.
 */
export function validateAgentRunbook(object: unknown): FieldError[] {
  compiled ??= schemaAjv().compile(AgentRunbook);
  return boundedThenValid(compiled, object);
}

/** The same for the v1 layout. */
export function validateAgentRunbookV1(object: unknown): FieldError[] {
  compiledV1 ??= schemaAjv().compile(AgentRunbookV1Schema);
  return boundedThenValid(compiledV1, object);
}

let compiledTemplate: ValidateFunction | undefined;

/** The same for an AgentRunbookTemplate or ClusterAgentRunbookTemplate. */
export function validateTemplate(object: unknown): FieldError[] {
  compiledTemplate ??= schemaAjv().compile(AgentRunbookTemplate);
  return boundedThenValid(compiledTemplate, object);
}

let compiledAgent: ValidateFunction | undefined;

/** The same for an Agent or ClusterAgent. */
export function validateAgent(object: unknown): FieldError[] {
  compiledAgent ??= schemaAjv().compile(Agent);
  return boundedThenValid(compiledAgent, object);
}

let compiledPolicy: ValidateFunction | undefined;

/** The same for a GatePolicy or ClusterGatePolicy (the cluster kind's schema; only it has match.namespaces). */
export function validateGatePolicy(object: unknown): FieldError[] {
  compiledPolicy ??= schemaAjv().compile(ClusterGatePolicy);
  return boundedThenValid(compiledPolicy, object);
}
