/** Resolving a stage's inputs and checking them against its validation block before it starts. */
import type { StageV2 } from '../../api/v2/runbook.js';
import { substitute, UnresolvedReference, type SubstitutionScope } from '../spec/substitution.js';
import type { Problem } from './agent-report.js';
import { graphemes } from '../../api/text.js';
import { compileUserSchema } from '../spec/user-schema.js';

function isEmpty(value: unknown): boolean {
  return (
    value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0)
  );
}

function lengthOf(value: unknown): number | undefined {
  if (typeof value === 'string') return graphemes(value).length;
  if (Array.isArray(value)) return value.length;
  return undefined;
}

export function resolveInputs(
  stage: StageV2,
  scope: SubstitutionScope,
): { inputs: Record<string, unknown> } | { problem: Problem } {
  let inputs: Record<string, unknown>;
  try {
    inputs = substitute(stage.config?.inputs ?? {}, scope) as Record<string, unknown>;
  } catch (error) {
    if (!(error instanceof UnresolvedReference)) throw error;
    const input = Object.entries(stage.config?.inputs ?? {}).find(([, value]) =>
      JSON.stringify(value).includes(`\${${error.reference}}`),
    )?.[0];
    return {
      problem: {
        reason: 'UnresolvedReference',
        message: `input ${input ?? '?'}: ${error.message}`,
      },
    };
  }
  const problem = validateInputs(stage, inputs);
  return problem ? { problem } : { inputs };
}

function validateInputs(stage: StageV2, inputs: Record<string, unknown>): Problem | undefined {
  const validation = stage.config?.validation;
  if (!validation) return undefined;
  const fail = (message: string): Problem => ({ reason: 'InputValidationFailed', message });
  for (const name of validation.required ?? []) {
    const value = inputs[name];
    if (isEmpty(value)) return fail(`input ${name} is required but is missing or empty`);
    const length = lengthOf(value);
    if (length !== undefined && validation.minLength !== undefined && length < validation.minLength) {
      return fail(
        `input ${name} is ${length} long, shorter than validation.minLength ${validation.minLength}`,
      );
    }
    if (length !== undefined && validation.maxLength !== undefined && length > validation.maxLength) {
      return fail(
        `input ${name} is ${length} long, longer than validation.maxLength ${validation.maxLength}`,
      );
    }
  }
  if (validation.schema) {
    const validate = compileUserSchema(validation.schema);
    if ('problem' in validate) return fail(`validation.schema ${validate.problem}`);
    const subject = { inputs, parameters: stage.config?.parameters ?? {} };
    if (!validate(subject)) {
      const first = validate.errors?.[0];
      const where = (first?.instancePath ?? '').split('/').filter(Boolean).join('.');
      return fail(`${where || 'inputs'} ${first?.message ?? 'does not match validation.schema'}`);
    }
  }
  return undefined;
}
