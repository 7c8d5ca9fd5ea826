/**
 * Agent (namespaced, a team's) and ClusterAgent (cluster-wide, the platform team's): how an agent
 * runs, as an API object instead of operator configuration. A stage names its agent; the operator
 * looks for an Agent of that name in the runbook's namespace, then a ClusterAgent, then its
 * catalog file. Both kinds share this one schema.
 */
import { Type, type Static } from '@sinclair/typebox';
import { AGENT_FIELDS } from '../catalog.js';
import { Egress } from '../egress.js';
import { Condition } from './status.js';
import { Int, Obj, Str, StrList, StringEnum, Timestamp } from '../schema-kit.js';

export const AgentSpec = Obj('How the agent runs.', {
  description: Type.Optional(Str('What the agent does, for the people who pick it.', { maxLength: 4096 })),
  ...AGENT_FIELDS,
  egress: Type.Optional(Egress),
});

export const BREAKER_STATES = ['closed', 'open', 'half-open'] as const;

export const AgentStatus = Obj('What the operator observed of the agent.', {
  observedGeneration: Type.Optional(Int('Generation of the spec this status describes.')),
  conditions: Type.Optional(
    Type.Array(Condition, {
      description: 'Conditions: Accepted (whether stages can run it, or why not).',
      maxItems: 8,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
    }),
  ),
  usedBy: Type.Optional(
    StrList(
      'Runbooks that name this agent (namespace/name; the first 32).',
      Str('namespace/name of a runbook.', { maxLength: 317 }),
      32,
    ),
  ),
  usedByCount: Type.Optional(Int('How many runbooks name this agent.', { minimum: 0 })),
  circuitBreaker: Type.Optional(
    Obj("The agent's circuit breaker, from its recent Jobs.", {
      state: StringEnum(
        'closed lets stages start; open holds them; half-open lets one probe through.',
        BREAKER_STATES,
      ),
      openUntil: Type.Optional(Timestamp('When an open breaker lets a probe through.')),
    }),
  ),
});

export const Agent = Type.Object(
  {
    apiVersion: Type.String({ description: 'i2s.studio/v2' }),
    kind: Type.String({ description: 'Agent or ClusterAgent' }),
    metadata: Type.Object({}, { description: 'Standard object metadata.', additionalProperties: true }),
    spec: AgentSpec,
    status: Type.Optional(AgentStatus),
  },
  {
    description:
      'How an agent runs: image, versions, environment and secrets, LLM settings and prices, circuit breaker, and its Pod template. Stages name agents; an Agent serves its namespace, a ClusterAgent every namespace.',
    additionalProperties: false,
  },
);

export type AgentSpecV2 = Static<typeof AgentSpec>;
export type AgentStatusV2 = Static<typeof AgentStatus>;
