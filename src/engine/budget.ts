/**
 * Token and cost budgets. Usage is what the agents reported, summed over stages and attempts.
 * Main-workflow stages may spend up to the totals; fallback and emergency steps may also spend the
 * tokens.emergency reserve.
 */
import type { SpecV2, StageStatusV2 } from '../api/v2/runbook.js';
import { MAX_TOKENS } from '../api/limits.js';
import { addMicros, formatMicros, parseMicros } from '../api/grammar.js';

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
      message: `spent $${formatMicros(usage.costMicros)} of the $${formatMicros(parseMicros(maxUSD))} budget`,
    };
  }
  return undefined;
}

export interface Grant {
  tokens?: number;
  costUSD?: string;
}

/** What the running stages hold: the sum of their grants. */
export function reservedBy(stages: StageStatusV2[]): Usage {
  return stages
    .filter((stage) => stage.phase === 'Running')
    .reduce(
      (sum, stage) => ({
        tokens: addTokens(sum.tokens, stage.grant?.tokens ?? 0),
        costMicros: addMicros(sum.costMicros, parseMicros(stage.grant?.costUSD ?? '0')),
      }),
      { tokens: 0, costMicros: 0 },
    );
}

/**
 * What a starting stage may spend: min(perAgent, what is left of the total after the usage so
 * far and the grants of the stages still running), for tokens and for dollars. Grants are
 * reservations, so stages running side by side can never together spend more than the total.
 * `waitFor` says why the stage cannot start yet: nothing is left to grant.
 */
export function grantFor(
  spec: SpecV2,
  usage: Usage,
  reserved: Usage,
  reserve = false,
): { grant: Grant; waitFor?: string } {
  const tokens = spec.budgets?.tokens;
  const limit =
    tokens?.total === undefined ? undefined : tokens.total + (reserve ? (tokens.emergency ?? 0) : 0);
  const leftTokens = limit === undefined ? undefined : Math.max(0, limit - usage.tokens - reserved.tokens);
  const tokenGrant = [tokens?.perAgent, leftTokens].filter((value): value is number => value !== undefined);
  const maxUSD = spec.budgets?.cost?.maxUSD;
  const leftMicros =
    maxUSD === undefined
      ? undefined
      : Math.max(0, parseMicros(maxUSD) - usage.costMicros - reserved.costMicros);
  const perAgentUSD = spec.budgets?.cost?.perAgent;
  const costGrant = [perAgentUSD === undefined ? undefined : parseMicros(perAgentUSD), leftMicros].filter(
    (value): value is number => value !== undefined,
  );
  const grant: Grant = {
    ...(tokenGrant.length ? { tokens: Math.min(...tokenGrant) } : {}),
    ...(costGrant.length ? { costUSD: formatMicros(Math.min(...costGrant)) } : {}),
  };
  const waitFor =
    leftTokens === 0
      ? `the running stages hold all ${Math.max(0, (limit ?? 0) - usage.tokens)} tokens left`
      : leftMicros === 0
        ? `the running stages hold all $${formatMicros(Math.max(0, parseMicros(maxUSD ?? '0') - usage.costMicros))} left`
        : undefined;
  return waitFor ? { grant, waitFor } : { grant };
}

/** How a report went over its grant, if it did. */
export function overGrant(grant: Grant | undefined, tokens: number, costMicros: number): string | undefined {
  if (grant?.tokens !== undefined && tokens > grant.tokens)
    return `reported ${tokens} tokens, over its grant of ${grant.tokens}`;
  if (grant?.costUSD !== undefined && costMicros > parseMicros(grant.costUSD))
    return `reported $${formatMicros(costMicros)}, over its grant of $${grant.costUSD}`;
  return undefined;
}

export function crossedAlert(spec: SpecV2, usage: Usage): boolean {
  const threshold = spec.budgets?.cost?.alertThreshold;
  return threshold !== undefined && usage.costMicros >= parseMicros(threshold);
}
