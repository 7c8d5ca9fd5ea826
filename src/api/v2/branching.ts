/**
 * Stages that branch: `when`, the CEL condition that decides whether a stage runs, and what its
 * dependents read when it did not (skippedOutputs). docs/branching.md tells the whole story.
 */
import { Type } from '@sinclair/typebox';
import { FreeObject, Str } from '../schema-kit.js';

export const When = Str(
  "CEL condition that decides whether the stage runs, evaluated once its dependencies have finished: over the context (bare or as context.<field>), the spec's fields, parameters (this stage's config.parameters) and outputs.<stage> (the outputs of the stages it reads, which it then depends on). False skips the stage (reason ConditionNotMet); its dependents still run.",
  { maxLength: 1024 },
);

export const SkippedOutputs = FreeObject(
  'What ${<stage>.outputs.<name>} gives when `when` skipped this stage, by output name. A dependent that reads an output not given here is skipped too (reason DependencySkipped).',
);

export const BRANCHING_FIELDS = { when: Type.Optional(When), skippedOutputs: Type.Optional(SkippedOutputs) };
