/**
 * JSON Schemas users write (a stage's config.validation.schema), compiled so that checking them
 * is bounded: a size limit before ajv generates code for them, and `pattern` run on RE2, whose
 * time is linear in its input, so "^(a+)+$" cannot hold the event loop.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import { RE2JS } from 're2js';
import { jsonShapeProblem } from '../../api/limits.js';

/** Largest user schema, in JSON values: enough for any input check, small to compile. */
const MAX_USER_SCHEMA_NODES = 2_000;
const CACHED_SCHEMAS = 256;

const re2RegExp = Object.assign(
  (pattern: string) => {
    const compiled = RE2JS.compile(pattern);
    return { test: (text: string) => compiled.matcher(text).find() };
  },
  { code: 're2js' },
);

const ajv = new Ajv({ strict: false, validateFormats: false, code: { regExp: re2RegExp } });
const compiled = new Map<string, ValidateFunction>();

export function compileUserSchema(schema: Record<string, unknown>): ValidateFunction | { problem: string } {
  const shape = jsonShapeProblem(schema, [], { depth: 16, nodes: MAX_USER_SCHEMA_NODES });
  if (shape) return { problem: `is too large to compile: it ${shape.message}` };
  const key = JSON.stringify(schema);
  const known = compiled.get(key);
  if (known) return known;
  try {
    const validate = ajv.compile(schema);
    if (compiled.size >= CACHED_SCHEMAS) compiled.clear();
    compiled.set(key, validate);
    return validate;
  } catch (error) {
    return { problem: `is not a valid JSON Schema with RE2 patterns: ${(error as Error).message}` };
  }
}
