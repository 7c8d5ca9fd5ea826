/**
 * Token and cost budgets. Usage is what the agents reported, summed over stages and attempts.
 * Main-workflow stages may spend up to the totals; fallback and emergency steps may also spend the
 * tokens.emergency reserve.
 */
import type { SpecV2, StageStatusV2 } from '../api/v2/runbook.js';
import { MAX_TOKENS } from '../api/limits.js';
import { addMicros, formatMicros, parseMicros } from './money.js';

export interface Usage {
  tokens: number;
  costMicros: number;
}

/** Token counts saturate, like money, so no sum leaves the schema's integers. */
export function addTokens(a: number, b: number): number {
  return Math.min(MAX_TOKENS, a + b);
}

export function totalUsage(stages: StageStatusV2[]): Usage {
  return stages.reduce(
    (sum, stage) => ({
      tokens: addTokens(sum.tokens, stage.usage?.tokens ?? 0),
      costMicros: addMicros(sum.costMicros, parseMicros(stage.usage?.costUSD ?? '0')),
    }),
    { tokens: 0, costMicros: 0 },
  );
}

export interface Exhaustion {
  reason: 'TokenBudgetExceeded' | 'CostBudgetExceeded';
  message: string;
}

/** The budget the run has used up, if any; `reserve` adds the emergency tokens (fallback steps). */
export function exhausted(spec: SpecV2, usage: Usage, reserve = false): Exhaustion | undefined {
  const tokens = spec.budgets?.tokens;
  if (tokens?.total !== undefined) {
    const limit = tokens.total + (reserve ? (tokens.emergency ?? 0) : 0);
    if (usage.tokens >= limit) {
      return {
        reason: 'TokenBudgetExceeded',
        message: `used ${usage.tokens} tokens of the ${reserve ? 'total plus emergency reserve' : 'total budget'} of ${limit}`,
      };
    }
  }
  const maxUSD = spec.budgets?.cost?.maxUSD;
  if (maxUSD !== undefined && usage.costMicros >= parseMicros(maxUSD)) {
    return {
      reason: 'CostBudgetExceeded',
      message: `spent $${formatMicros(usage.costMicros)} of the $${maxUSD} budget`,
    };
  }
  return undefined;
}

/** What one Job may spend: min(perAgent, what is left). */
export function grant(spec: SpecV2, usage: Usage, reserve = false): { tokens?: number; costUSD?: string } {
  const tokens = spec.budgets?.tokens;
  const left =
    tokens?.total === undefined
      ? undefined
      : tokens.total + (reserve ? (tokens.emergency ?? 0) : 0) - usage.tokens;
  const tokenGrant = [tokens?.perAgent, left].filter((value): value is number => value !== undefined);
  const maxUSD = spec.budgets?.cost?.maxUSD;
  return {
    ...(tokenGrant.length ? { tokens: Math.max(0, Math.min(...tokenGrant)) } : {}),
    ...(maxUSD !== undefined
      ? { costUSD: formatMicros(Math.max(0, parseMicros(maxUSD) - usage.costMicros)) }
      : {}),
  };
}

export function crossedAlert(spec: SpecV2, usage: Usage): boolean {
  const threshold = spec.budgets?.cost?.alertThreshold;
  return threshold !== undefined && usage.costMicros >= parseMicros(threshold);
}
