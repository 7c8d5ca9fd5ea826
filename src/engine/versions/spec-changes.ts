/**
 * What a spec change means for the runbook's users, as the semver bump it implies (the
 * specification's RunbookVersionManager: breaking -> major, feature -> minor, fix -> patch). The
 * admission warnings, the ControllerRevision labels and `agentrunbook diff` all use these rules.
 */
import { isDeepStrictEqual } from 'node:util';
import semver from 'semver';
import { parseDurationMs } from '../../api/grammar.js';
import type { SpecV2 } from '../../api/v2/runbook.js';

export type ChangeClass = 'breaking' | 'feature' | 'fix';
export type Bump = 'major' | 'minor' | 'patch' | 'none';

export interface SpecChange {
  rule: string;
  class: ChangeClass;
  field: string;
  /** What changed, e.g. "removing stage b". */
  message: string;
}

/** The rules, in the order they are checked; docs/versioning.md is generated from this table. */
export const CHANGE_RULES = [
  { rule: 'stage-removed', class: 'breaking', description: 'a pipeline stage is removed or renamed' },
  {
    rule: 'output-removed',
    class: 'breaking',
    description: "a stage's declared output is removed or changes its type",
  },
  {
    rule: 'workflow-removed',
    class: 'breaking',
    description: 'the main, fallback or emergency workflow is removed',
  },
  { rule: 'environment-removed', class: 'breaking', description: 'an entry of spec.environments is removed' },
  {
    rule: 'retry-strategy-removed',
    class: 'breaking',
    description: 'an entry of spec.retryStrategies is removed',
  },
  {
    rule: 'budget-lowered',
    class: 'breaking',
    description: 'a token, time or cost budget is lowered or set where there was none',
  },
  { rule: 'stage-added', class: 'feature', description: 'a pipeline stage is added' },
  { rule: 'output-added', class: 'feature', description: 'a stage declares a new output' },
  {
    rule: 'workflow-added',
    class: 'feature',
    description: 'a main, fallback or emergency workflow is added',
  },
  { rule: 'environment-added', class: 'feature', description: 'an entry of spec.environments is added' },
  { rule: 'agent-added', class: 'feature', description: 'a core or deployment agent is added' },
  { rule: 'gate-added', class: 'feature', description: 'a quality gate is added' },
  { rule: 'monitoring-added', class: 'feature', description: 'a runbook metric or alert is added' },
  {
    rule: 'changed',
    class: 'fix',
    description:
      'anything else changes (settings, parameters, timeouts, retries, descriptions); spec.version, spec.suspend, spec.status and spec.revisionHistoryLimit do not count',
  },
] as const satisfies readonly { rule: string; class: ChangeClass; description: string }[];

type Rule = (typeof CHANGE_RULES)[number]['rule'];

const CLASS_OF = new Map<string, ChangeClass>(CHANGE_RULES.map((rule) => [rule.rule, rule.class]));
const BUMP_OF: Record<ChangeClass, Bump> = { breaking: 'major', feature: 'minor', fix: 'patch' };
const RANK: Record<Bump, number> = { none: 0, patch: 1, minor: 2, major: 3 };

/** Fields that operate the runbook rather than define it: changing them is no change of the runbook. */
export const OPERATIONAL_FIELDS = ['suspend', 'status', 'revisionHistoryLimit'] as const;
const IGNORED = new Set<string>(['version', ...OPERATIONAL_FIELDS]);

const change = (rule: Rule, field: string, message: string): SpecChange => ({
  rule,
  class: CLASS_OF.get(rule) ?? 'fix',
  field,
  message,
});

const keysOf = (value: unknown): string[] => (value && typeof value === 'object' ? Object.keys(value) : []);
const namesOf = (list: readonly { name: string }[] | undefined): string[] =>
  (list ?? []).map((item) => item.name);

/** The names in `next` but not `old` (added) and in `old` but not `next` (removed). */
function setDiff(old: readonly string[], next: readonly string[]): { added: string[]; removed: string[] } {
  const before = new Set(old);
  const after = new Set(next);
  return { added: next.filter((n) => !before.has(n)), removed: old.filter((n) => !after.has(n)) };
}

function stageChanges(old: SpecV2, next: SpecV2): SpecChange[] {
  const before = new Map((old.agents.pipeline ?? []).map((stage) => [stage.name, stage]));
  const after = new Map((next.agents.pipeline ?? []).map((stage) => [stage.name, stage]));
  const { added, removed } = setDiff([...before.keys()], [...after.keys()]);
  const changes = [
    ...removed.map((name) =>
      change('stage-removed', `spec.agents.pipeline[${name}]`, `removing stage ${name}`),
    ),
    ...added.map((name) => change('stage-added', `spec.agents.pipeline[${name}]`, `adding stage ${name}`)),
  ];
  for (const [name, stage] of after) {
    const was = before.get(name);
    if (!was) continue;
    const field = `spec.agents.pipeline[${name}]`;
    const oldOutputs = was.config?.outputs ?? {};
    const newOutputs = stage.config?.outputs ?? {};
    for (const output of Object.keys(oldOutputs)) {
      if (newOutputs[output] !== oldOutputs[output])
        changes.push(
          change(
            'output-removed',
            `${field}.config.outputs.${output}`,
            Object.hasOwn(newOutputs, output)
              ? `changing the type of output ${name}.${output}`
              : `removing output ${name}.${output}`,
          ),
        );
    }
    for (const output of setDiff(Object.keys(oldOutputs), Object.keys(newOutputs)).added)
      changes.push(
        change('output-added', `${field}.config.outputs.${output}`, `adding output ${name}.${output}`),
      );
    const { config: oldConfig, ...oldRest } = was;
    const { config: newConfig, ...newRest } = stage;
    const oldSettings = { ...oldConfig, outputs: undefined };
    const newSettings = { ...newConfig, outputs: undefined };
    if (!isDeepStrictEqual(oldRest, newRest) || !isDeepStrictEqual(oldSettings, newSettings))
      changes.push(change('changed', field, `changing stage ${name}`));
  }
  return changes;
}

function namedChanges(
  field: string,
  what: string,
  old: readonly string[],
  next: readonly string[],
  rules: { added: Rule; removed?: Rule },
): SpecChange[] {
  const { added, removed } = setDiff(old, next);
  const removedRule = rules.removed;
  return [
    ...(removedRule
      ? removed.map((name) => change(removedRule, `${field}.${name}`, `removing ${what} ${name}`))
      : []),
    ...added.map((name) => change(rules.added, `${field}.${name}`, `adding ${what} ${name}`)),
  ];
}

/** A budget as a number to compare, or undefined when unset. */
type Limit = (spec: SpecV2) => number | undefined;
const BUDGET_LIMITS: [string, Limit][] = [
  ['spec.budgets.tokens.total', (spec) => spec.budgets?.tokens?.total],
  ['spec.budgets.tokens.perAgent', (spec) => spec.budgets?.tokens?.perAgent],
  ['spec.budgets.cost.maxUSD', (spec) => numberOf(spec.budgets?.cost?.maxUSD)],
  ['spec.budgets.cost.perAgent', (spec) => numberOf(spec.budgets?.cost?.perAgent)],
  ['spec.budgets.time.total', (spec) => durationOf(spec.budgets?.time?.total)],
  ['spec.budgets.time.perStage', (spec) => durationOf(spec.budgets?.time?.perStage)],
];
const numberOf = (money: string | number | undefined) => (money === undefined ? undefined : Number(money));
const durationOf = (text: string | undefined) => (text === undefined ? undefined : parseDurationMs(text));

function budgetChanges(old: SpecV2, next: SpecV2): SpecChange[] {
  return BUDGET_LIMITS.flatMap(([field, limit]) => {
    const before = limit(old);
    const after = limit(next);
    if (after === undefined || (before !== undefined && after >= before)) return [];
    return [change('budget-lowered', field, before === undefined ? `setting ${field}` : `lowering ${field}`)];
  });
}

const workflowNames = (spec: SpecV2) => keysOf(spec.workflows);

/** Every change from `old` to `next`, breaking ones first. */
export function specChanges(old: SpecV2, next: SpecV2): SpecChange[] {
  const structural = [
    ...stageChanges(old, next),
    ...namedChanges('spec.workflows', 'workflow', workflowNames(old), workflowNames(next), {
      added: 'workflow-added',
      removed: 'workflow-removed',
    }),
    ...namedChanges('spec.environments', 'environment', keysOf(old.environments), keysOf(next.environments), {
      added: 'environment-added',
      removed: 'environment-removed',
    }),
    ...namedChanges(
      'spec.retryStrategies',
      'retry strategy',
      keysOf(old.retryStrategies),
      keysOf(next.retryStrategies),
      { added: 'changed', removed: 'retry-strategy-removed' },
    ),
    ...namedChanges('spec.agents.core', 'core agent', keysOf(old.agents.core), keysOf(next.agents.core), {
      added: 'agent-added',
    }),
    ...namedChanges(
      'spec.agents.deployment',
      'deployment agent',
      keysOf(old.agents.deployment),
      keysOf(next.agents.deployment),
      { added: 'agent-added' },
    ),
    ...namedChanges('spec.quality.gates', 'gate', namesOf(old.quality?.gates), namesOf(next.quality?.gates), {
      added: 'gate-added',
    }),
    ...namedChanges(
      'spec.monitoring.metrics',
      'metric',
      namesOf(old.monitoring?.metrics),
      namesOf(next.monitoring?.metrics),
      { added: 'monitoring-added' },
    ),
    ...namedChanges(
      'spec.monitoring.alerts',
      'alert',
      namesOf(old.monitoring?.alerts),
      namesOf(next.monitoring?.alerts),
      { added: 'monitoring-added' },
    ),
    ...budgetChanges(old, next),
  ];
  const explained = new Set(structural.map((found) => found.field.split(/[.[]/)[1]));
  const rest = [...new Set([...Object.keys(old), ...Object.keys(next)])]
    .filter((key) => !IGNORED.has(key) && !explained.has(key))
    .filter((key) => !isDeepStrictEqual(old[key as keyof SpecV2], next[key as keyof SpecV2]))
    .map((key) => change('changed', `spec.${key}`, `changing spec.${key}`));
  const all = [...structural, ...rest];
  return [...all].sort((a, b) => RANK[BUMP_OF[b.class]] - RANK[BUMP_OF[a.class]]);
}

/** The bump a list of changes needs: the largest of its classes. */
export function bumpOf(changes: readonly SpecChange[]): Bump {
  return changes.reduce<Bump>(
    (bump, found) => (RANK[BUMP_OF[found.class]] > RANK[bump] ? BUMP_OF[found.class] : bump),
    'none',
  );
}

/** The version after `bump` (the specification's calculateNextVersion); unchanged for none. */
export function nextVersion(version: string, bump: Bump): string {
  if (bump === 'none') return version;
  return semver.inc(version, bump) ?? version;
}

/** How a version step ranks as a bump (a prerelease step counts as its kind). */
export function bumpBetween(from: string, to: string): Bump {
  if (!semver.valid(from) || !semver.valid(to) || semver.eq(from, to)) return 'none';
  const diff = semver.diff(from, to);
  if (diff === 'major' || diff === 'premajor') return 'major';
  if (diff === 'minor' || diff === 'preminor') return 'minor';
  return 'patch';
}

export const bumpRank = (bump: Bump): number => RANK[bump];
