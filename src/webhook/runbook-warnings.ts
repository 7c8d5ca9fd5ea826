/**
 * Warnings (not refusals) the validating webhook gives about a runbook: settings the operator
 * accepts but does not act on, budgets that will make stages wait for each other, steps that never
 * run, and a spec.version that does not say how much the spec changed.
 */
import semver from 'semver';
import type { SpecV2 } from '../api/v2/runbook.js';
import { unusedWorkspaces } from '../api/v2/workspaces.js';
import { CONDUCTOR_SETTINGS, conductorConfig } from '../engine/spec/conductor.js';
import { overlayBudgets } from '../engine/spec/effective.js';
import { mainEntries, terminatingStep } from '../engine/spec/workflow-stages.js';
import { bumpBetween, bumpOf, bumpRank, nextVersion, specChanges } from '../engine/versions/spec-changes.js';

/** What an environment overlay lowers below an inherited share, which the run lowers too. */
function overlayBudgetWarnings(spec: SpecV2): string[] {
  return Object.entries(spec.environments ?? {}).flatMap(([name, overlay]) =>
    overlay.budgets
      ? overlayBudgets(spec, overlay.budgets).clamped.map(
          (what) =>
            `spec.environments.${name}.budgets: with this overlay ${what}; set it in the overlay to choose another value`,
        )
      : [],
  );
}

/** Which pipeline stages a main step runs first because its stage depends on them. */
function pulledInWarnings(spec: SpecV2): string[] {
  if (!spec.workflows?.main?.steps?.length) return [];
  const pulled = new Map<number, string[]>();
  for (const { stage, step, pulledIn } of mainEntries(spec))
    if (pulledIn) pulled.set(step, [...(pulled.get(step) ?? []), stage.name]);
  return [...pulled].map(([step, names]) => {
    const target = spec.workflows?.main?.steps?.[step];
    return `spec.workflows.main.steps[${step}]: step ${target?.name ?? ''} runs pipeline stage ${target?.agent ?? ''}, which depends on ${names.join(', ')}: ${names.length > 1 ? 'they run' : 'it runs'} first, as a build target's dependencies do; add ${names.length > 1 ? 'steps' : 'a step'} to place ${names.length > 1 ? 'them' : 'it'} yourself`;
  });
}

/** The conductor's settings the operator does not act on (see engine/spec/conductor.ts). */
function conductorWarnings(spec: SpecV2): string[] {
  const { field, config } = conductorConfig(spec);
  return Object.entries(config).flatMap(([key, value]) => {
    if (key === 'budgetTracking' || key === 'qualityGates') {
      return value === false ? [`${field}.${key}: ${CONDUCTOR_SETTINGS[key]}`] : [];
    }
    if (key === 'maxConcurrentPipelines') return [];
    return [
      `${field}.${key}: the operator does not act on this setting; it is the conductor itself (it acts on ${Object.keys(CONDUCTOR_SETTINGS).join(', ')})`,
    ];
  });
}

/**
 * Warnings (not refusals) on any create or update: settings the operator accepts but does not act
 * on, and budgets that will make stages wait for each other.
 */
export function settingWarnings(spec: SpecV2): string[] {
  const warnings = conductorWarnings(spec);
  const parallel =
    (spec.execution?.mode ?? 'pipeline') !== 'pipeline' && (spec.execution?.parallelism ?? 5) > 1;
  const budgets = spec.budgets;
  if (parallel && budgets?.tokens?.total !== undefined && budgets.tokens.perAgent === undefined) {
    warnings.push(
      'spec.budgets.tokens: without perAgent each starting stage is granted all the tokens left, so stages run one at a time; set perAgent to let them run side by side',
    );
  }
  if (parallel && budgets?.cost?.maxUSD !== undefined && budgets.cost.perAgent === undefined) {
    warnings.push(
      'spec.budgets.cost: without perAgent each starting stage is granted all the dollars left, so stages run one at a time; set perAgent to let them run side by side',
    );
  }
  warnings.push(...overlayBudgetWarnings(spec), ...pulledInWarnings(spec));
  warnings.push(...unusedWorkspaces(spec.workspaces, spec.agents.pipeline ?? []));
  for (const workflow of ['main', 'fallback', 'emergency'] as const) {
    const ending = terminatingStep(spec, workflow);
    if (!ending?.unreachable.length) continue;
    warnings.push(
      `spec.workflows.${workflow}.steps[${ending.index + 1}]: step ${ending.step.name} (action terminate) ends the ${workflow} workflow, so ${ending.unreachable.map((step) => step.name).join(', ')} never run`,
    );
  }
  return warnings;
}

/** Warnings (not refusals) about spec.version on an update, by the rules of engine/versions/spec-changes.ts. */
export function versionWarnings(old: SpecV2, next: SpecV2): string[] {
  const changes = specChanges(old, next);
  if (changes.length === 0) return [];
  if (old.version === next.version) {
    return [
      `spec changed but spec.version is still ${next.version}: bump it so the change can be told apart`,
    ];
  }
  if (!semver.valid(old.version) || !semver.valid(next.version)) return [];
  if (semver.lt(next.version, old.version))
    return [`spec.version went down from ${old.version} to ${next.version}`];
  const needed = bumpOf(changes);
  const bump = bumpBetween(old.version, next.version);
  if (bumpRank(bump) >= bumpRank(needed)) return [];
  const [why] = changes;
  return [
    `${why?.message ?? 'the change'} is a ${why?.class ?? 'fix'} change: spec.version should get a ${needed} bump (${nextVersion(old.version, needed)}), but ${old.version} -> ${next.version} is a ${bump} bump`,
  ];
}
