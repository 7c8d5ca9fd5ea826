import { Type } from '@sinclair/typebox';
import { Obj, Str, Bool, Duration, Int, Name, NamedList, StrList, positiveDuration } from '../schema-kit.js';

/** The most approvals one gate may ask for. */
export const MAX_APPROVALS = 10;

export const Approvals = Obj('Who may decide the gate, and how many must approve.', {
  count: Type.Optional(
    Int('How many different users must approve (default 1). One rejection rejects the gate.', {
      minimum: 1,
      maximum: MAX_APPROVALS,
    }),
  ),
  excludeAuthor: Type.Optional(
    Bool(
      'Four eyes: the user who last changed the spec (recorded at admission in the annotation i2s.studio/author) may not decide the gate.',
    ),
  ),
  groups: Type.Optional(
    StrList(
      'Only members of one of these groups (as the API server authenticated them) may decide the gate.',
      Str('A group name.', { maxLength: 256, minLength: 1 }),
      16,
    ),
  ),
});

export const Gate = Obj(
  'A quality gate: a point where the run waits for a person to approve.',
  {
    name: Name(
      'Name of the gate; decide it with `agentrunbook approve|reject <runbook> <gate>` (a GateDecision).',
    ),
    description: Type.Optional(Str('What the approver should check.', { maxLength: 1024 })),
    required: Type.Optional(
      Bool('The gate always applies. Otherwise it applies only when condition is true.'),
    ),
    condition: Type.Optional(
      Str('CEL expression over the runbook spec that makes the gate apply, e.g. context.riskLevel > 7.', {
        maxLength: 1024,
      }),
    ),
    timeout: Type.Optional(Duration('How long the gate waits for a decision before the run fails.')),
    before: Type.Optional(Name('Stage the gate guards; without it the gate guards the start of the run.')),
    approvals: Type.Optional(Approvals),
  },
  { celRules: [positiveDuration('timeout')] },
);

export const Quality = Obj('Quality gates the run must pass.', {
  gates: Type.Optional(NamedList('The gates, each with a unique name.', Gate, 32)),
});
