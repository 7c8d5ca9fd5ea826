import { Type } from '@sinclair/typebox';
import { Obj, Str, StringEnum, Num, StrList, Timestamp, SemVer } from '../schema-kit.js';

export const COMPLEXITIES = ['simple', 'moderate', 'complex'] as const;

export const Context = Obj(
  'Where the runbook comes from: the idea it serves. Stage inputs read these fields as ${context.<field>}.',
  {
    ideaId: Type.Optional(Str('Identifier of the source idea.', { maxLength: 253 })),
    title: Type.Optional(Str('Title of the project the runbook serves.', { maxLength: 512 })),
    ideaText: Type.Optional(Str('Full text of the idea.', { maxLength: 65536 })),
    oneLiner: Type.Optional(Str('One-line summary of the idea.', { maxLength: 512 })),
    complexity: Type.Optional(
      StringEnum('How complex the idea is; picks the generator template.', COMPLEXITIES),
    ),
    riskLevel: Type.Optional(Num('Risk score from 0 (none) to 10 (highest).', { minimum: 0, maximum: 10 })),
    domains: Type.Optional(StrList('Business domains, e.g. productivity, healthcare, finance.')),
    userType: Type.Optional(
      Str('Kind of user the idea is for, e.g. individual or enterprise.', { maxLength: 128 }),
    ),
  },
);

export const Author = Obj('What generated the runbook.', {
  system: Type.Optional(
    Str('Name of the generating system, e.g. i2s-runbook-generator.', { maxLength: 253 }),
  ),
  version: Type.Optional(SemVer('Version of the generating system.')),
});

export const Created = Timestamp('When the runbook was generated (RFC 3339).');
