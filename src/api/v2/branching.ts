/**
 * Stages that branch and fan out: `when`, the CEL condition that decides whether a stage runs, and
 * what its dependents read when it did not (skippedOutputs); `forEach`, one Job per item of a list,
 * with what the stage's status says of its items; `runbook`, a whole other runbook run as one stage
 * (a child AgentRunbook the stage owns). docs/branching.md tells the whole story.
 */
import { Type } from '@sinclair/typebox';
import { NAME_PATTERN } from '../grammar.js';
import { AnyValue, FreeObject, Int, Name, Obj, Str, StringEnum } from '../schema-kit.js';
import { TEMPLATE_KIND_NAMES } from '../group.js';

/** How many items a forEach may have when the operator's configuration does not say (fanOut.maxItems). */
export const DEFAULT_MAX_ITEMS = 256;
/** The most items any configuration may allow one forEach. */
export const MAX_ITEMS_LIMIT = 10_000;
/** The most items of a run that have their own status entry at once: running, retrying or about to start. */
export const MAX_ITEM_ENTRIES = 100;
/** Finished items a fan-out stage's status keeps in detail (items.recent), the newest last. */
export const RECENT_ITEMS = 8;
/** How deep runbooks may run runbooks: a top-level runbook is depth 0, its children 1, and so on. */
export const MAX_RUNBOOK_DEPTH = 4;
export const ITEM_FAILURE_POLICIES = ['fail', 'collect'] as const;

/** A stage's name, or an item of a forEach stage as <stage>[<index>]. */
export const STAGE_OR_ITEM_PATTERN = `${NAME_PATTERN.replace(/\$$/, '')}(\\[[0-9]{1,5}\\])?$`;

export const When = Str(
  "CEL condition that decides whether the stage runs, evaluated once its dependencies have finished: over the context (bare or as context.<field>), the spec's fields, parameters (this stage's config.parameters) and outputs.<stage> (the outputs of the stages it reads, which it then depends on). False skips the stage (reason ConditionNotMet); its dependents still run.",
  { maxLength: 1024 },
);

export const SkippedOutputs = FreeObject(
  'What ${<stage>.outputs.<name>} gives when `when` skipped this stage, by output name. A dependent that reads an output not given here is skipped too (reason DependencySkipped).',
);

export const ForEach = AnyValue(
  "Run the stage once per item of a list: a list written here, or one whole reference to a list: ${context.<field>} or ${<stage>.outputs.<name>} (a JSON array an upstream stage reported, which it then depends on). Each item is one Job, status entry <stage>[<index>], with its own attempts, retries and budget grant; its inputs read ${item}, ${item.<field>} and ${index}. The stage's outputs are lists, one entry per item in item order.",
);

export const RunbookStage = Obj(
  "Run another runbook as this stage: a child AgentRunbook in this namespace, owned by this one (deleted with it, cancelled when this run stops). The stage's resolved inputs become the child's spec.context fields (over those it has); its budgets are capped at the stage's grant, so what it spends counts against this runbook's budgets; its outputs are those its stages reported, by name (the last stage that reported a name wins). Set template or name.",
  {
    template: Type.Optional(
      Obj('Make the child from a template, as spec.template does.', {
        name: Name('The template.'),
        kind: Type.Optional(
          StringEnum(
            'AgentRunbookTemplate (this namespace) or ClusterAgentRunbookTemplate; both when absent (a namespaced one shadows a cluster one).',
            TEMPLATE_KIND_NAMES,
          ),
        ),
      }),
    ),
    name: Type.Optional(
      Name(
        'An AgentRunbook of this namespace whose spec the child runs (as the spec is when the stage starts), with its context updated by the inputs.',
      ),
    ),
  },
  {
    celRules: [
      { rule: 'has(self.template) != has(self.name)', message: 'set exactly one of template and name' },
    ],
  },
);

export const BRANCHING_FIELDS = {
  when: Type.Optional(When),
  skippedOutputs: Type.Optional(SkippedOutputs),
  forEach: Type.Optional(ForEach),
  maxParallel: Type.Optional(
    Int(
      `Most items of this forEach stage running at once, under execution.parallelism (and at most ${MAX_ITEM_ENTRIES}).`,
      { minimum: 1, maximum: MAX_ITEM_ENTRIES },
    ),
  ),
  runbook: Type.Optional(RunbookStage),
  onItemFailure: Type.Optional(
    StringEnum(
      'What an item that failed (after its retries) does: fail (the default) fails the stage and stops its other items; collect lets the others finish, gives the failed ones null in the output lists and fails the stage only if every item failed.',
      ITEM_FAILURE_POLICIES,
    ),
  ),
};

const IndexList = (description: string) =>
  Str(`${description}, as ranges in the format of a Job's completedIndexes, e.g. 0-4,7.`, {
    maxLength: 65536,
  });

export const ItemsStatus = Obj(
  "A forEach stage's items: counts, which finished how, and the newest finished ones in detail (running ones have their own entries, <stage>[<index>]).",
  {
    count: Int('Items in the list.', { minimum: 0 }),
    started: Int('Items started so far; items start in list order.', { minimum: 0 }),
    succeeded: Int('Items that succeeded.', { minimum: 0 }),
    failed: Int('Items that failed after their retries.', { minimum: 0 }),
    attempts: Type.Optional(Int('Attempts of the finished items, retries included.', { minimum: 0 })),
    failedAttempts: Type.Optional(
      Type.Record(Type.String({ maxLength: 32 }), Int('Failed attempts.', { minimum: 0 }), {
        description:
          'Failed attempts of the finished items, by the error class each item last reported (every failed attempt of an item counts under its last class).',
        maxProperties: 16,
      }),
    ),
    succeededIndexes: Type.Optional(IndexList('Indexes of the items that succeeded')),
    failedIndexes: Type.Optional(IndexList('Indexes of the items that failed')),
    recent: Type.Optional(
      Type.Array(
        Obj('A finished item.', {
          index: Int('Its index in the list.', { minimum: 0 }),
          phase: StringEnum('How it finished.', ['Succeeded', 'Failed', 'Skipped'] as const),
          attempts: Int('Its attempts.', { minimum: 0 }),
          job: Type.Optional(Str('The Job of its last attempt.', { maxLength: 63 })),
          reason: Type.Optional(Str('Why it finished so.', { maxLength: 128 })),
          message: Type.Optional(Str('Detail.', { maxLength: 512 })),
        }),
        {
          description: `The last ${RECENT_ITEMS} items that finished, oldest first.`,
          maxItems: RECENT_ITEMS,
        },
      ),
    ),
  },
);

export const FanOutLimits = Obj('Bounds on forEach stages.', {
  maxItems: Type.Optional(
    Int(
      `Most items one forEach may have (${DEFAULT_MAX_ITEMS} by default): a longer list fails its stage with the size and this limit.`,
      { minimum: 1, maximum: MAX_ITEMS_LIMIT },
    ),
  ),
});
