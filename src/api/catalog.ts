/**
 * The agent catalog: operator configuration that says which container runs each agent. An entry
 * matches an agent name and, when the stage asks for a version, a semver range.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Obj, Str, StrList, Name, FreeObject } from './schema-kit.js';

export const CatalogEntry = Obj('How one agent runs.', {
  name: Name('Agent name, as stages and workflow steps refer to it.'),
  versions: Type.Optional(
    Str('Semver range of agent versions this entry serves, e.g. ">=1.0.0 <2.0.0"; any version when absent.', {
      maxLength: 256,
    }),
  ),
  image: Str('Container image.', { maxLength: 512 }),
  command: Type.Optional(StrList('Container command.', Str('An argument.'), 32)),
  args: Type.Optional(StrList('Container arguments.', Str('An argument.'), 64)),
  resources: Type.Optional(FreeObject('Container resources (requests and limits), as in a Pod spec.')),
  env: Type.Optional(
    Type.Record(Type.String(), Str('A value.'), {
      description: 'Extra environment variables for the agent.',
    }),
  ),
});

export const AgentCatalog = Obj('Agents the operator can run.', {
  agents: Type.Array(CatalogEntry, { description: 'Entries, tried in order.', maxItems: 1024 }),
});

export type CatalogEntry = Static<typeof CatalogEntry>;
export type AgentCatalog = Static<typeof AgentCatalog>;
