/**
 * Nothing accepted is ignored (issue 25): every field of the runbook schema is read by the
 * operator's code (engine, controller, webhook, observability), or is listed with what it is for
 * in src/api/v2/field-roles.ts (settings only the agent acts on, descriptive fields).
 */
import { expect } from 'chai';
import { Spec } from '../../../src/api/v2/spec.js';
import { AgentSpec } from '../../../src/api/v2/agent.js';
import {
  AGENT_SETTINGS,
  CONTEXT_FIELDS,
  DESCRIPTIVE_FIELDS,
  POD_FIELDS,
} from '../../../src/api/v2/field-roles.js';
import { sourceCode } from '../../support/repo-files.js';

type Node = Record<string, unknown>;

/** Every field path of a schema: lists as [], maps as *, both shapes of a two-shape value. */
function fieldPaths(schema: Node, path: string, into: string[] = []): string[] {
  const properties = (schema.properties ?? {}) as Record<string, Node>;
  for (const [name, child] of Object.entries(properties)) {
    into.push(`${path}.${name}`);
    fieldPaths(child, `${path}.${name}`, into);
  }
  if (schema.items) fieldPaths(schema.items as Node, `${path}[]`, into);
  for (const value of Object.values((schema.patternProperties ?? {}) as Record<string, Node>))
    fieldPaths(value, `${path}.*`, into);
  if (schema.then) fieldPaths(schema.then as Node, path, into);
  return into;
}

const LISTED = [AGENT_SETTINGS, DESCRIPTIVE_FIELDS, CONTEXT_FIELDS, POD_FIELDS].flatMap((list) =>
  Object.keys(list),
);

/** A listed field and what it holds (its entries, its fields). */
const listed = (path: string) =>
  LISTED.some((entry) => path === entry || path.startsWith(`${entry}.`) || path.startsWith(`${entry}[]`));

const READERS = ['engine', 'generator', 'controller', 'webhook', 'observability', 'operator'];

describe('the schema walk: every runbook field is acted on or says what it is for', () => {
  const code = sourceCode(READERS);
  const paths = [...fieldPaths(Spec, 'spec'), ...fieldPaths(AgentSpec, 'agent.spec')];

  it('walks the whole schema', () => {
    expect(paths.length).to.be.greaterThan(150);
    expect(paths).to.include.members([
      'spec.workflows.fallback.trigger.threshold',
      'spec.environments.*.budgets.tokens.perAgent',
    ]);
  });

  it('finds every field read by the operator’s code, or listed in field-roles.ts with what it is for', () => {
    const unread = paths.filter((path) => {
      if (listed(path)) return false;
      const field = path.slice(path.lastIndexOf('.') + 1).replace('[]', '');
      // A property read (x.field, x?.field), a destructuring or an object key ('field' or field:).
      return !new RegExp(`(\\?\\.|\\.)${field}\\b|[{,]\\s*${field}\\b[^(]|['"]${field}['"]`).test(code);
    });
    expect(unread, 'fields neither read nor listed in src/api/v2/field-roles.ts').to.deep.equal([]);
  });

  it('lists only fields that exist', () => {
    for (const listed of [AGENT_SETTINGS, DESCRIPTIVE_FIELDS, CONTEXT_FIELDS].flatMap((list) =>
      Object.keys(list),
    ))
      expect(paths, listed).to.include(listed);
  });
});
