/**
 * GatePolicy (a namespace's administrators) and ClusterGatePolicy (the cluster's): quality gates
 * added to every matching runbook. They live in objects of their own, so a runbook's author, who
 * can edit the runbook, cannot remove them.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Gate } from './quality.js';
import { NamedList, Obj, Str, StrList, StringEnum } from '../schema-kit.js';

const LabelSelector = Obj("A Kubernetes label selector over the runbook's labels.", {
  matchLabels: Type.Optional(
    Type.Record(Type.String({ maxLength: 317 }), Type.String({ maxLength: 63 }), {
      description: 'Labels the runbook must carry, with these values.',
      maxProperties: 32,
    }),
  ),
  matchExpressions: Type.Optional(
    Type.Array(
      Obj('One requirement on a label.', {
        key: Str('The label key.', { maxLength: 317, minLength: 1 }),
        operator: StringEnum('How the values apply.', ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const),
        values: Type.Optional(StrList('The values (In, NotIn).', Str('A value.', { maxLength: 63 }), 32)),
      }),
      { description: 'Requirements, all of which must hold.', maxItems: 16 },
    ),
  ),
});

const MATCH_FIELDS = {
  runbookSelector: Type.Optional(LabelSelector),
  agents: Type.Optional(
    StrList(
      'Runbooks with a stage that runs one of these agents.',
      Str('An agent name.', { maxLength: 253, minLength: 1 }),
      32,
    ),
  ),
  condition: Type.Optional(
    Str('CEL over the runbook spec, as a gate condition, e.g. riskLevel >= 7.', { maxLength: 1024 }),
  ),
};

const MATCH_DESCRIPTION =
  "Which runbooks the gates are added to: every field given must hold; none given matches every runbook. Labels and the condition read what the runbook's author writes; a change that makes the policy stop matching a runbook needs the approve verb.";

/** Most gates one policy adds. */
export const MAX_POLICY_GATES = 8;

const policySpec = <M extends ReturnType<typeof Obj>>(description: string, match: M) =>
  Obj(description, {
    match: Type.Optional(match),
    gates: NamedList('The gates added, as in spec.quality.gates.', Gate, MAX_POLICY_GATES),
  });

export const GatePolicySpec = policySpec(
  'Quality gates added to the matching runbooks of this namespace.',
  Obj(MATCH_DESCRIPTION, MATCH_FIELDS),
);

export const ClusterGatePolicySpec = policySpec(
  'Quality gates added to the matching runbooks of every namespace (or of the namespaces listed).',
  Obj(MATCH_DESCRIPTION, {
    namespaces: Type.Optional(
      StrList('Only runbooks in these namespaces.', Str('A namespace.', { maxLength: 63, minLength: 1 }), 64),
    ),
    ...MATCH_FIELDS,
  }),
);

const policyRoot = (spec: typeof ClusterGatePolicySpec | typeof GatePolicySpec, description: string) =>
  Type.Object(
    {
      apiVersion: Type.String({ description: 'i2s.studio/v2' }),
      kind: Type.String({ description: 'GatePolicy or ClusterGatePolicy' }),
      metadata: Type.Object({}, { description: 'Standard object metadata.', additionalProperties: true }),
      spec,
    },
    { description, additionalProperties: false },
  );

export const GatePolicy = policyRoot(
  GatePolicySpec,
  "Quality gates a namespace's administrators add to its runbooks; the runbooks' authors cannot remove them.",
);
export const ClusterGatePolicy = policyRoot(
  ClusterGatePolicySpec,
  "Quality gates the cluster's administrators add to runbooks in every namespace, or in those listed.",
);

/** Both kinds' specs, as the engine reads them (a GatePolicy has no namespaces). */
export type GatePolicySpecV2 = Static<typeof ClusterGatePolicySpec>;
