/**
 * The conductor: the orchestrating agent of the specification, which the operator itself is. Its
 * settings live at agents.conductor, or at agents.core.conductor where the specification writes
 * them; the first wins.
 */
import type { SpecV2 } from '../../api/v2/runbook.js';

export const CONDUCTOR = 'conductor';

/** Settings the operator acts on, and what each does; anything else gets a warning. */
export const CONDUCTOR_SETTINGS = {
  maxConcurrentPipelines:
    'runbooks of this namespace that may run at once; this one waits its turn (Queued) beyond it',
  budgetTracking: 'budgets are always tracked: true is what the operator does, false does nothing',
  qualityGates: 'quality gates are always enforced: true is what the operator does, false does nothing',
} as const;

export function conductorConfig(spec: SpecV2): { field: string; config: Record<string, unknown> } {
  if (spec.agents.conductor?.config)
    return { field: 'spec.agents.conductor.config', config: spec.agents.conductor.config };
  const core = spec.agents.core?.[CONDUCTOR]?.config;
  return core
    ? { field: `spec.agents.core.${CONDUCTOR}.config`, config: core }
    : { field: 'spec.agents.conductor.config', config: {} };
}

/** The most runbooks of a namespace this runbook lets run at once, if it sets a limit. */
export function maxConcurrentPipelines(spec: SpecV2): number | undefined {
  const limit = conductorConfig(spec).config.maxConcurrentPipelines;
  return typeof limit === 'number' && Number.isSafeInteger(limit) && limit > 0 ? limit : undefined;
}
