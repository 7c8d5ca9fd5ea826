/**
 * AgentRunbookTemplate and ClusterAgentRunbookTemplate: a runbook spec with placeholders, and the
 * rules that select it for an idea's context (the specification's template library and selector,
 * as data). Both kinds share this one schema.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Int, Num, Obj, Str, StringEnum, StrList } from '../schema-kit.js';
import { COMPLEXITIES } from './context.js';
import { Spec } from './runbook.js';

export const Selector = Obj(
  'When the template is chosen for a context: every rule set here must hold. Of the templates whose rules hold, the one with the highest priority is chosen (ties: by name). A template without a selector is used only when named.',
  {
    priority: Type.Optional(
      Int('Precedence among templates whose rules hold; higher wins. Default 0.', {
        minimum: 0,
        maximum: 1000,
      }),
    ),
    complexity: Type.Optional(
      StrList('context.complexity is one of these.', StringEnum('A complexity.', COMPLEXITIES), 3),
    ),
    domains: Type.Optional(StrList('context.domains holds at least one of these.', undefined, 32)),
    userType: Type.Optional(StrList('context.userType is one of these.', undefined, 32)),
    riskLevel: Type.Optional(
      Obj('context.riskLevel is within these bounds (a context without one has risk 0).', {
        above: Type.Optional(Num('Greater than this.', { minimum: 0, maximum: 10 })),
        atMost: Type.Optional(Num('At most this.', { minimum: 0, maximum: 10 })),
      }),
    ),
  },
);

export const TemplateSpec = Obj('A runbook with placeholders, and when to choose it.', {
  displayName: Type.Optional(
    Str('Name people know the template by, e.g. Security-First.', { maxLength: 128 }),
  ),
  description: Type.Optional(Str('What runbooks made from it do, and for which ideas.', { maxLength: 4096 })),
  selector: Type.Optional(Selector),
  runbook: Obj(
    'The runbook it makes. Strings may hold {idea-slug}, {idea-id}, {project-title} and {timestamp}, and ${context.<field>|transform} (slug, upper, lower, truncate:N); stage inputs keep their ${...} references for the run, where they resolve from spec.context. spec.context is the generation context.',
    {
      name: Type.Optional(
        Str('Name of the generated runbook, with placeholders; default {idea-slug}.', { maxLength: 253 }),
      ),
      spec: Spec,
    },
  ),
});

/** Both template kinds: the namespaced one serves its namespace, the cluster one every namespace. */
export const AgentRunbookTemplate = Type.Object(
  {
    apiVersion: Type.String({ description: 'i2s.studio/v2' }),
    kind: Type.String({ description: 'AgentRunbookTemplate or ClusterAgentRunbookTemplate' }),
    metadata: Type.Object({}, { description: 'Standard object metadata.', additionalProperties: true }),
    spec: TemplateSpec,
  },
  {
    description:
      'A runbook with placeholders, and the rules that choose it for an idea (the generator template library).',
    additionalProperties: false,
  },
);

export type TemplateSpecV2 = Static<typeof TemplateSpec>;
export type SelectorV2 = Static<typeof Selector>;
