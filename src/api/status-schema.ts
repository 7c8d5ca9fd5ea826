/**
 * The status the operator writes, held to the generated schema before the write: strings cut to
 * their maxLength (so a long message is shortened, not refused), then the whole checked, so
 * whatever the API server would refuse is found here, with the field named.
 */
import type { ValidateFunction } from 'ajv';
import { schemaAjv } from './ajv.js';
import { isObject, ownChild, setOwn, type Json } from './json.js';
import type { StatusV2 } from './v2/runbook.js';
import { eachGrapheme } from './text.js';
import { Status } from './v2/status.js';
import { toFieldError, type FieldError } from './validator.js';

const ELLIPSIS = '…';

const codePoints = (text: string) => Array.from(text).length;

/**
 * Cuts a string to at most `max` characters, counted in code points as the API server counts
 * them, and only between graphemes so no character is cut in half.
 */
export function truncate(text: string, max: number): string {
  if (text.length <= max || codePoints(text) <= max) return text;
  let kept = '';
  let used = 0;
  for (const segment of eachGrapheme(text)) {
    const size = codePoints(segment);
    if (used + size > max - 1) break;
    kept += segment;
    used += size;
  }
  return `${kept}${ELLIPSIS}`;
}

function fit(schema: unknown, value: unknown): unknown {
  if (!isObject(schema)) return value;
  if (typeof value === 'string') {
    return typeof schema.maxLength === 'number' ? truncate(value, schema.maxLength) : value;
  }
  if (Array.isArray(value)) return value.map((item) => fit(schema.items, item));
  if (!isObject(value)) return value;
  const properties = isObject(schema.properties) ? schema.properties : undefined;
  const patterned = isObject(schema.patternProperties)
    ? Object.values(schema.patternProperties)[0]
    : undefined;
  const out: Json = {};
  for (const [key, item] of Object.entries(value)) {
    // As JSON would: an undefined field is no field.
    if (item === undefined) continue;
    const own = properties ? ownChild(properties, key) : undefined;
    setOwn(out, key, fit(own ?? patterned, item));
  }
  return out;
}

export function fitStatusToSchema(status: StatusV2): StatusV2 {
  return fit(Status, status) as StatusV2;
}

let compiled: ValidateFunction | undefined;

/** The status checked against the generated schema, fields named as kubectl names them. */
export function validateStatus(status: StatusV2): FieldError[] {
  compiled ??= schemaAjv().compile(Status);
  if (compiled(status)) return [];
  return (compiled.errors ?? []).map((error) => {
    const problem = toFieldError(error);
    return { ...problem, field: problem.field === '(root)' ? 'status' : `status.${problem.field}` };
  });
}
