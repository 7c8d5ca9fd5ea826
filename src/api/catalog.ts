/**
 * The agent catalog: operator configuration that says which container runs each agent. An entry
 * matches an agent name and, when the stage asks for a version, a semver range.
 */
import { Type, type Static } from '@sinclair/typebox';
import { AGENT_HISTORY_LIMIT } from './limits.js';
import { Obj, Str, StrList, Name, FreeObject, Int, Duration, Money, NamedMap } from './schema-kit.js';

/** What a container's environment variable may be called (as the API server checks it). */
const ENV_NAME = '^[-._a-zA-Z][-._a-zA-Z0-9]*$';

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
  secretEnv: Type.Optional(
    Type.Record(
      Type.String({ pattern: ENV_NAME, maxLength: 256 }),
      Obj("An environment variable from a key of a Secret in the runbook's namespace.", {
        secret: Name('Name of the Secret.'),
        key: Str('Key in the Secret.', { maxLength: 253 }),
      }),
      {
        description:
          'Environment variables the agent reads from Secrets (an API key), which the operator never reads itself; the Secret must exist in each namespace that runs the agent.',
        maxProperties: 32,
      },
    ),
  ),
  llm: Type.Optional(
    Obj(
      'The chat-completions endpoint an LLM agent calls (src/agent/llm-agent.ts), passed to it as AGENT_LLM.',
      {
        baseURL: Str('Base URL of an OpenAI-compatible API, e.g. https://api.openai.com/v1.', {
          maxLength: 2048,
        }),
        model: Str('Model to call unless the stage parameter model names another; prices must list it.', {
          maxLength: 256,
        }),
      },
    ),
  ),
  circuitBreaker: Type.Optional(CircuitBreaker),
});

export const ModelPrice = Obj('What one model costs, in US dollars per million tokens.', {
  inputPerMillionTokens: Money('Dollars per million prompt tokens.'),
  outputPerMillionTokens: Money('Dollars per million completion tokens.'),
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
  prices: Type.Optional(
    Type.Record(Type.String({ minLength: 1, maxLength: 256 }), ModelPrice, {
      description:
        'Prices of the models LLM agents call, by model name: the agents report their cost from them.',
      maxProperties: 256,
    }),
  ),
});

export type CatalogEntry = Static<typeof CatalogEntry>;
export type AgentCatalog = Static<typeof AgentCatalog>;
export type ModelPrice = Static<typeof ModelPrice>;
