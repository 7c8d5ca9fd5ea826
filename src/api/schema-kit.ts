/**
 * Building blocks for the API schemas. Every schema in src/api is written with these helpers so
 * that one definition yields the TypeScript types (TypeBox's Static), the ajv validator and the
 * CRD's structural openAPIV3Schema (see crd.ts).
 */
import {
  Type,
  type TSchema,
  type TString,
  type TObject,
  type TProperties,
  type ObjectOptions,
} from '@sinclair/typebox';
import {
  DURATION_PATTERN,
  MAX_DURATION_TEXT,
  MONEY_PATTERN,
  NAME_MAX_LENGTH,
  IMAGE_PATTERN,
  DNS_SUBDOMAIN_PATTERN,
  NAME_PATTERN,
  SEMVER_PATTERN,
} from './grammar.js';

/** A CEL rule the API server evaluates itself (x-kubernetes-validations). */
export interface CelRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

/**
 * A rule that the duration at `path` (a time limit, e.g. timeout or config.timeout) is longer
 * than zero: a 0s limit could only fail at once.
 */
export function positiveDuration(path: string): CelRule {
  const parts = path.split('.');
  const present = parts.map((_, index) => `!has(self.${parts.slice(0, index + 1).join('.')})`).join(' || ');
  return {
    rule: `${present} || duration(self.${path}) > duration('0s')`,
    message: `${parts.at(-1) ?? path} must be longer than 0s`,
    fieldPath: `.${path}`,
  };
}

/** A strict object: unknown fields are refused, by ajv here and by the API server's pruning/strict decoding. */
export function Obj<T extends TProperties>(
  description: string,
  properties: T,
  options: ObjectOptions & { celRules?: CelRule[] } = {},
): TObject<T> {
  const { celRules, ...rest } = options;
  return Type.Object(properties, {
    description,
    additionalProperties: false,
    ...rest,
    ...(celRules ? { 'x-kubernetes-validations': celRules } : {}),
  });
}

export function Str(
  description: string,
  options: { maxLength?: number; pattern?: string; minLength?: number } = {},
) {
  return Type.String({ description, maxLength: 4096, ...options });
}

export function Name(description: string) {
  return Type.String({ description, pattern: NAME_PATTERN, maxLength: NAME_MAX_LENGTH });
}

/** A container image reference (registry/path:tag@digest), checked against the reference grammar. */
export function ImageRef(description: string) {
  return Type.String({ description, pattern: IMAGE_PATTERN, maxLength: 512 });
}

/** A ServiceAccount name, checked as the API server checks it. */
export function ServiceAccountName(description: string) {
  return Type.String({ description, pattern: DNS_SUBDOMAIN_PATTERN, maxLength: 253 });
}

export function Duration(description: string) {
  return Type.String({
    description: `${description} A duration such as 30s, 5m, 4h or 1h30m, at most ${MAX_DURATION_TEXT}.`,
    pattern: DURATION_PATTERN,
    format: 'duration',
    maxLength: 32,
  });
}

export function Money(description: string) {
  return Type.String({
    description: `${description} US dollars as a decimal string, e.g. "10.00".`,
    pattern: MONEY_PATTERN,
    maxLength: 16,
  });
}

/** The most dollars an amount written as a number may say (the decimal grammar's nine digits). */
const MAX_DOLLARS = 999_999_999;

/**
 * Dollars a person writes: a decimal string ("10.00") or a plain number (10.00, as the
 * specification writes budgets). A structural CRD schema cannot say "a string or a number", so
 * the CRD leaves the node untyped and the validating webhook checks it (see `OneShapeOf`).
 */
export function MoneyAmount(description: string) {
  return OneShapeOf<string | number>(
    `${description} US dollars, as a decimal string ("10.00") or a number (10.00).`,
    { type: 'number' },
    Type.Number({ minimum: 0, maximum: MAX_DOLLARS }),
    Money(description),
  );
}

/**
 * A value with two shapes, told apart by its JSON type (`when`): e.g. a number short for an
 * object. The CRD cannot type such a node, so it is left untyped
 * (x-kubernetes-preserve-unknown-fields, with `description` for kubectl explain), and ajv checks
 * it as if/then/else in the validating webhook, so each error is about the shape written.
 */
export function OneShapeOf<T>(description: string, when: object, then: TSchema, otherwise: TSchema) {
  return Type.Unsafe<T>({
    description,
    'x-kubernetes-preserve-unknown-fields': true,
    if: when,
    then,
    else: otherwise,
  });
}

export function SemVer(description: string) {
  return Type.String({
    description: `${description} A semantic version such as 1.2.0.`,
    pattern: SEMVER_PATTERN,
    maxLength: 64,
  });
}

export function Timestamp(description: string) {
  return Type.String({ description, format: 'date-time', maxLength: 64 });
}

export function Int(
  description: string,
  options: { minimum?: number; maximum?: number; default?: number } = {},
) {
  return Type.Integer({ description, format: 'int64', ...options });
}

export function Num(description: string, options: { minimum?: number; maximum?: number } = {}) {
  return Type.Number({ description, ...options });
}

export function Bool(description: string) {
  return Type.Boolean({ description });
}

/** A closed set of strings, written as enum (CRDs have no const/anyOf-of-literals). */
export function StringEnum<const V extends readonly string[]>(
  description: string,
  values: V,
  def?: V[number],
) {
  return Type.Unsafe<V[number]>({
    type: 'string',
    description: `${description} One of: ${values.join(', ')}.`,
    enum: [...values],
    ...(def === undefined ? {} : { default: def }),
  });
}

/** A list of strings with a bound, so the API server can estimate the cost of CEL rules over it. */
export function StrList<T extends TSchema = TString>(description: string, item?: T, maxItems = 64) {
  return Type.Array((item ?? Str('An entry.', { maxLength: 253 })) as T, { description, maxItems });
}

/** A list whose entries are keyed by their `name`: the API server refuses duplicate names. */
export function NamedList<T extends TSchema>(description: string, item: T, maxItems = 64) {
  return Type.Array(item, {
    description,
    maxItems,
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['name'],
  });
}

/** A map from names to values (JSON object with free keys). */
export function NamedMap<T extends TSchema>(description: string, value: T, maxProperties = 64) {
  return Type.Record(Type.String({ pattern: NAME_PATTERN, maxLength: NAME_MAX_LENGTH }), value, {
    description,
    maxProperties,
  });
}

/** Free-form JSON object whose content the API server keeps as given (agent configuration, inputs). */
export function FreeObject(description: string) {
  return Type.Unsafe<Record<string, unknown>>({
    type: 'object',
    description,
    'x-kubernetes-preserve-unknown-fields': true,
  });
}

/** Any JSON value (an output, an input value). */
export function AnyValue(description: string) {
  return Type.Unknown({ description, 'x-kubernetes-preserve-unknown-fields': true });
}

/** The root of a served version: apiVersion, kind, metadata, the version's spec and status. */
export function ResourceRoot<S extends TSchema, T extends TSchema>(
  apiVersion: string,
  spec: S,
  status: T,
  description: string,
) {
  return Type.Object(
    {
      apiVersion: Type.String({ description: apiVersion }),
      kind: Type.String({ description: 'AgentRunbook' }),
      metadata: Type.Object({}, { description: 'Standard object metadata.', additionalProperties: true }),
      spec,
      status: Type.Optional(status),
    },
    { description, additionalProperties: false },
  );
}
