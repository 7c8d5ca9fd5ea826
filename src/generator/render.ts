/**
 * Makes a runbook from a template and an idea's context (the specification's RunbookGenerator):
 * the context becomes spec.context, the placeholders are filled in, and stage inputs keep their
 * ${...} references for the run, which resolves them from spec.context and earlier stages.
 */
import type { SpecV2 } from '../api/v2/runbook.js';
import { GROUP, KIND, STORAGE_VERSION } from '../api/group.js';
import {
  slug,
  substitute,
  UnresolvedReference,
  type SubstitutionScope,
} from '../engine/spec/substitution.js';
import type { NamedTemplate } from './select.js';

/** The annotation that names the template a runbook was made from. */
export const ANNOTATION_TEMPLATE = 'i2s.studio/template';

const MAX_NAME = 63;

export interface GeneratedRunbook {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; annotations: Record<string, string> };
  spec: SpecV2;
}

/** {timestamp}: UTC, digits only, so it fits in names. */
const compactTimestamp = (now: Date) => now.toISOString().replace(/\D/g, '').slice(0, 14);

function fillPlaceholders(text: string, values: Record<string, string>): string {
  return text.replace(
    /\{(idea-slug|idea-id|project-title|timestamp)\}/g,
    (_, name: string) => values[name] ?? '',
  );
}

/** Fills every string of a value; ${...} references too, except under a stage's inputs. */
function fill(
  value: unknown,
  scope: SubstitutionScope,
  values: Record<string, string>,
  inInputs: boolean,
): unknown {
  if (typeof value === 'string') {
    const text = fillPlaceholders(value, values);
    return inInputs ? text : substitute(text, scope);
  }
  if (Array.isArray(value)) return value.map((item) => fill(item, scope, values, inInputs));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [
        key,
        fill(item, scope, values, inInputs || key === 'inputs'),
      ]),
    );
  }
  return value;
}

export type Rendered = { runbook: GeneratedRunbook } | { problem: string };

export function renderRunbook(
  template: NamedTemplate,
  context: Record<string, unknown>,
  now: Date,
  namespace?: string,
): Rendered {
  const title = typeof context.title === 'string' ? context.title : '';
  const ideaId = typeof context.ideaId === 'string' ? context.ideaId : '';
  const values = {
    'idea-slug': slug(title || ideaId) || 'idea',
    'idea-id': ideaId,
    'project-title': title,
    timestamp: compactTimestamp(now),
  };
  const { spec: templateSpec, name = '{idea-slug}' } = template.spec.runbook;
  const mergedContext = { ...templateSpec.context, ...context };
  const scope: SubstitutionScope = {
    context: mergedContext,
    outputs: {},
    timestamp: now.toISOString(),
    runbook: { name: '', namespace: namespace ?? '', version: templateSpec.version },
  };
  let spec: SpecV2;
  let runbookName: string;
  try {
    spec = fill({ ...templateSpec, context: mergedContext }, scope, values, false) as SpecV2;
    runbookName = slug(String(fill(name, scope, values, false)))
      .slice(0, MAX_NAME)
      .replace(/-+$/, '');
  } catch (error) {
    if (!(error instanceof UnresolvedReference)) throw error;
    return { problem: `template ${template.name}: ${error.message}` };
  }
  return {
    runbook: {
      apiVersion: `${GROUP}/${STORAGE_VERSION}`,
      kind: KIND,
      metadata: {
        name: runbookName || 'runbook',
        ...(namespace ? { namespace } : {}),
        annotations: { [ANNOTATION_TEMPLATE]: template.name },
      },
      spec: { ...spec, created: now.toISOString().replace(/\.\d+Z$/, 'Z') },
    },
  };
}
