/**
 * Environment overlays: spec.environment picks spec.environments.<name>, which is deep-merged over
 * execution, budgets and agent configuration before anything runs.
 */
import { isObject, ownChild, setOwn, type Json } from '../../api/json.js';
import type { SpecV2, StageV2, StatusV2 } from '../../api/v2/runbook.js';
import { budgetLimits, clampBudgets, type BudgetsOverlayV2 } from '../../api/v2/budgets.js';

/**
 * spec.budgets with an environment's budgets merged over it, both in the long form; a share the
 * overlay leaves above its whole is lowered to it (the admission warning says which).
 */
export function overlayBudgets(spec: SpecV2, overlay: BudgetsOverlayV2) {
  return clampBudgets(deepMerge(budgetLimits(spec.budgets) ?? {}, budgetLimits(overlay)));
}

/** Objects merge key by key; anything else in the overlay replaces the base value. */
export function deepMerge<T>(base: T, overlay: unknown): T {
  if (overlay === undefined) return base;
  if (!isObject(base) || !isObject(overlay)) return overlay as T;
  const merged: Json = { ...base };
  for (const [key, value] of Object.entries(overlay))
    setOwn(merged, key, deepMerge(ownChild(merged, key), value));
  return merged as T;
}

export function effectiveSpec(spec: SpecV2): SpecV2 {
  const overlay = spec.environment ? spec.environments?.[spec.environment] : undefined;
  if (!overlay) return spec;
  const agentConfig = (name: string) => overlay.agents?.[name]?.config;
  const stage = (s: StageV2): StageV2 => {
    const config = agentConfig(s.name) ?? (s.agent ? agentConfig(s.agent) : undefined);
    if (!config) return s;
    return { ...s, config: { ...s.config, parameters: deepMerge(s.config?.parameters ?? {}, config) } };
  };
  const mapConfigs = <A extends { config?: Json }>(agents: Record<string, A> | undefined) =>
    agents &&
    Object.fromEntries(
      Object.entries(agents).map(([name, agent]) => {
        const config = agentConfig(name);
        return [name, config ? { ...agent, config: deepMerge(agent.config ?? {}, config) } : agent];
      }),
    );
  const { core, deployment, pipeline, ...agents } = spec.agents;
  return {
    ...spec,
    ...(overlay.execution ? { execution: deepMerge(spec.execution ?? {}, overlay.execution) } : {}),
    ...(overlay.budgets ? { budgets: overlayBudgets(spec, overlay.budgets).limits } : {}),
    agents: {
      ...agents,
      ...(pipeline ? { pipeline: pipeline.map(stage) } : {}),
      ...(core ? { core: mapConfigs(core) } : {}),
      ...(deployment ? { deployment: mapConfigs(deployment) } : {}),
    },
  };
}

/** The spec a runbook runs: the one made from its template (status.template) when it has one. */
export function runSpec(runbook: { spec: SpecV2; status?: StatusV2 }): SpecV2 {
  const made = runbook.status?.template?.spec;
  return made ? (made as unknown as SpecV2) : runbook.spec;
}
