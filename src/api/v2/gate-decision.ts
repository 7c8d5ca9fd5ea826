/**
 * GateDecision: one user's approval or rejection of one quality gate of one run. Approvers create
 * them (RBAC: create gatedecisions, and the approve verb on the runbook); the admission webhook
 * records who decided and for which generation, and refuses what the gate does not allow (four
 * eyes, approver groups, a gate that is not waiting). Immutable once made.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Int, Name, Obj, Str, StrList, StringEnum } from '../schema-kit.js';

export const DECISIONS = ['Approved', 'Rejected'] as const;

export const GateDecisionSpec = Obj(
  'A decision on one quality gate of one runbook in this namespace. Immutable: decide again with a new object.',
  {
    runbook: Name('The AgentRunbook, in this namespace.'),
    gate: Name('The gate of that runbook.'),
    decision: StringEnum('The decision.', DECISIONS),
    comment: Type.Optional(Str('Why, for the people who read the run.', { maxLength: 2048 })),
    generation: Type.Optional(
      Int(
        "The generation of the runbook's spec decided on: the webhook fills in the current one, and refuses any other (the spec changed since the approver looked).",
        { minimum: 1 },
      ),
    ),
    user: Type.Optional(
      Str('Who decided: written by the admission webhook from the authenticated requester.', {
        maxLength: 256,
      }),
    ),
    groups: Type.Optional(
      StrList(
        "The requester's groups, written by the admission webhook.",
        Str('A group.', { maxLength: 256 }),
        64,
      ),
    ),
  },
  { celRules: [{ rule: 'self == oldSelf', message: 'a decision cannot be changed; make a new one' }] },
);

export const GateDecision = Type.Object(
  {
    apiVersion: Type.String({ description: 'i2s.studio/v2' }),
    kind: Type.String({ description: 'GateDecision' }),
    metadata: Type.Object({}, { description: 'Standard object metadata.', additionalProperties: true }),
    spec: GateDecisionSpec,
  },
  {
    description:
      "One user's approval or rejection of a quality gate of an AgentRunbook, with a comment. Made by `agentrunbook approve|reject` or the console; the admission webhook records who decided.",
    additionalProperties: false,
  },
);

export type GateDecisionSpecV2 = Static<typeof GateDecisionSpec>;

/** The GateDecision `agentrunbook approve|reject` and the console make. */
export function newGateDecision(decision: {
  namespace: string;
  runbook: string;
  gate: string;
  decision: (typeof DECISIONS)[number];
  comment?: string;
  /** The generation the decider looked at; the webhook refuses the decision if the spec changed since. */
  generation?: number;
}): Record<string, unknown> {
  const { namespace, runbook, gate, comment, generation } = decision;
  // A name of at most 63 characters: generateName adds five to the prefix.
  const prefix = `${runbook}-${gate}`
    .replaceAll('_', '-')
    .slice(0, 57)
    .replace(/[-.]+$/, '');
  return {
    apiVersion: 'i2s.studio/v2',
    kind: 'GateDecision',
    metadata: { generateName: `${prefix}-`, namespace },
    spec: {
      runbook,
      gate,
      decision: decision.decision,
      ...(comment ? { comment } : {}),
      ...(generation ? { generation } : {}),
    },
  };
}
