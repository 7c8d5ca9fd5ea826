/**
 * The agent catalog: operator configuration that says which container runs each agent. An entry
 * matches an agent name and, when the stage asks for a version, a semver range.
 */
import { Type, type Static } from '@sinclair/typebox';
import { AGENT_HISTORY_LIMIT } from './limits.js';
import { Obj, Str, StrList, Name, FreeObject, Int, Duration, NamedMap } from './schema-kit.js';

export const CircuitBreaker = Obj(
  "When an agent's Jobs keep failing with infrastructure errors, new stages of that agent wait.",
  {
    threshold: Type.Optional(
      Int('Consecutive infrastructure failures that open the breaker (default 5).', {
        minimum: 1,
        maximum: AGENT_HISTORY_LIMIT,
      }),
    ),
    resetTimeout: Type.Optional(
      Duration('How long the breaker stays open before one probe may run (default 60s).'),
    ),
  },
);

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
  circuitBreaker: Type.Optional(CircuitBreaker),
});

export const NotificationTarget = Obj('Where a notify target of an emergency workflow is reached.', {
  url: Str('URL that receives an HTTP POST with a JSON description of the emergency.', { maxLength: 2048 }),
});

/** The operator's configuration file (--config): the agent catalog and what goes with it. */
export const AgentCatalog = Obj('Agents the operator can run, and how it guards and reports on them.', {
  agents: Type.Array(CatalogEntry, { description: 'Entries, tried in order.', maxItems: 1024 }),
  circuitBreaker: Type.Optional(CircuitBreaker),
  notificationTargets: Type.Optional(
    NamedMap('Notify targets of emergency workflows, by name.', NotificationTarget, 256),
  ),
});

export type CatalogEntry = Static<typeof CatalogEntry>;
export type AgentCatalog = Static<typeof AgentCatalog>;
