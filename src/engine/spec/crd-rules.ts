/**
 * The CRD's own CEL rules (x-kubernetes-validations), evaluated offline as the API server
 * evaluates them at admission, so `agentrunbook validate` refuses what the cluster would. The
 * value must have passed the schema first: its sizes are what bound the rules' cost.
 */
import type { TSchema } from '@sinclair/typebox';
import { isObject } from '../../api/json.js';
import type { CelRule } from '../../api/schema-kit.js';
import type { FieldError } from '../../api/validator.js';
import { compileCondition } from './cel.js';

const SELF: ReadonlySet<string> = new Set(['self']);

function ruleProblem(rule: CelRule, value: unknown, path: string): FieldError | undefined {
  const scope = { self: value };
  const field = `${path}${rule.fieldPath ?? ''}`;
  const compiled = compileCondition(rule.rule, scope, SELF);
  if ('problem' in compiled) return { field, message: `the rule ${rule.rule} ${compiled.problem}` };
  let holds: unknown;
  try {
    holds = compiled.evaluate();
  } catch (error) {
    return { field, message: `the rule ${rule.rule} failed: ${(error as Error).message}` };
  }
  if (holds === true) return undefined;
  let message = rule.message ?? `failed rule: ${rule.rule}`;
  if (rule.messageExpression) {
    const text = compileCondition(rule.messageExpression, scope, SELF);
    try {
      if ('evaluate' in text) message = String(text.evaluate());
    } catch {
      // The rule failed either way; its plain message is said instead.
    }
  }
  return { field, message };
}

/** Every rule of `schema` and its children that `value` breaks, with the field named from `path`. */
export function crdRuleProblems(schema: TSchema, value: unknown, path: string): FieldError[] {
  if (value === undefined || value === null) return [];
  const rules = (schema['x-kubernetes-validations'] ?? []) as CelRule[];
  const problems = rules
    .map((rule) => ruleProblem(rule, value, path))
    .filter((problem): problem is FieldError => problem !== undefined);
  if (Array.isArray(value) && schema.items) {
    const items = schema.items as TSchema;
    value.forEach((item, index) => {
      const key = isObject(item) && typeof item.name === 'string' ? item.name : String(index);
      problems.push(...crdRuleProblems(items, item, `${path}[${key}]`));
    });
  } else if (isObject(value)) {
    const properties = (schema.properties ?? {}) as Record<string, TSchema>;
    const rest: unknown = schema.additionalProperties;
    for (const [key, child] of Object.entries(value)) {
      const childSchema = Object.hasOwn(properties, key)
        ? properties[key]
        : isObject(rest)
          ? (rest as TSchema)
          : undefined;
      if (childSchema) problems.push(...crdRuleProblems(childSchema, child, `${path}.${key}`));
    }
  }
  return problems;
}
