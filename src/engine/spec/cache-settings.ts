/**
 * The cache a stage asks for, in order: its own `cache`; the specification's words in its
 * parameters (a step's or stage's config `useCache` or a core agent's `cacheEnabled`, with
 * `maxAge` or `cacheTTL`), which still reach the agent as parameters; then spec.execution.cache.
 * An agent with `cache: false` is never cached, whatever the runbook asks.
 */
import { isAcceptedDuration, parseDurationMs } from '../../api/grammar.js';
import type { SpecV2, StageV2 } from '../../api/v2/runbook.js';
import { DEFAULT_CACHE_MAX_AGE, type StageCacheV2 } from '../../api/v2/cache.js';

export interface CacheSettings {
  maxAge: string;
  maxAgeMs: number;
  key?: string;
  version?: string;
}

/** The parameters that switch caching on or off, and those that give its age, as the specification names them. */
export const CACHE_SWITCH_PARAMETERS = ['useCache', 'cacheEnabled'] as const;
export const CACHE_AGE_PARAMETERS = ['maxAge', 'cacheTTL'] as const;

/** The cache the specification's words in a stage's parameters ask for, if they ask anything. */
export function parameterCache(parameters: Record<string, unknown> | undefined): StageCacheV2 | undefined {
  if (!parameters) return undefined;
  const switched = CACHE_SWITCH_PARAMETERS.map((name) => parameters[name]).find(
    (value) => typeof value === 'boolean',
  );
  if (switched === undefined) return undefined;
  if (!switched) return { enabled: false };
  const age = CACHE_AGE_PARAMETERS.map((name) => parameters[name]).find((value) => typeof value === 'string');
  return { ...(age === undefined ? {} : { maxAge: age }) };
}

/** What the stage asks of the cache before its agent has a say. */
export function askedCache(spec: SpecV2, stage: StageV2): StageCacheV2 | undefined {
  return stage.cache ?? parameterCache(stage.config?.parameters) ?? spec.execution?.cache;
}

/** The cache settings of a stage, or undefined when it is not cached. */
export function cacheSettings(spec: SpecV2, stage: StageV2, agentAllows: boolean): CacheSettings | undefined {
  const asked = askedCache(spec, stage);
  if (!asked || asked.enabled === false || !agentAllows) return undefined;
  // Admission checks maxAge; one that got past it (stored before) is read as the default.
  const maxAge =
    asked.maxAge !== undefined && isAcceptedDuration(asked.maxAge) && parseDurationMs(asked.maxAge) > 0
      ? asked.maxAge
      : DEFAULT_CACHE_MAX_AGE;
  return {
    maxAge,
    maxAgeMs: parseDurationMs(maxAge),
    ...(asked.key === undefined ? {} : { key: asked.key }),
    ...(asked.version === undefined ? {} : { version: asked.version }),
  };
}
