import { Type } from '@sinclair/typebox';
import { Obj, Str, Bool, Duration, Name, NamedList, positiveDuration } from '../schema-kit.js';

export const Gate = Obj(
  'A quality gate: a point where the run waits for a person to approve.',
  {
    name: Name('Name of the gate; approve it with the annotation gates.i2s.studio/<name>: approved.'),
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
  },
  { celRules: [positiveDuration('timeout')] },
);

export const Quality = Obj('Quality gates the run must pass.', {
  gates: Type.Optional(NamedList('The gates, each with a unique name.', Gate, 32)),
});
