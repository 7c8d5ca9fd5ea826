/**
 * Token and cost budgets. Usage is what the agents reported, summed over stages and attempts.
 * Main-workflow stages may spend up to the totals; fallback and emergency steps may also spend the
 * tokens.emergency reserve.
 */
import type { SpecV2, StageStatusV2 } from '../../api/v2/runbook.js';
import { MAX_MICROS, MAX_TOKENS } from '../../api/limits.js';
import { addMicros, formatMicros, moneyMicros, parseDurationMs } from '../../api/grammar.js';

export interface Usage {
  tokens: number;
  costMicros: number;
}

/** Token counts saturate, like money, so no sum leaves the schema's integers. */
export function addTokens(a: number, b: number): number {
  return Math.min(MAX_TOKENS, a + b);
}

/** Tokens and dollars as status writes them (a stage's usage, a grant), summed exactly. */
function sum(amounts: { tokens?: number; costUSD?: string }[]): Usage {
  return amounts.reduce<Usage>(
    (total, amount) => ({
      tokens: addTokens(total.tokens, amount.tokens ?? 0),
      costMicros: addMicros(total.costMicros, moneyMicros(amount.costUSD ?? '0')),
    }),
    { tokens: 0, costMicros: 0 },
  );
}

export function totalUsage(stages: StageStatusV2[]): Usage {
  return sum(stages.map((stage) => stage.usage ?? {}));
}

/** Whether a figure saturated: the status holds no more, so what was used is at least this. */
export function isCapped(usage: Usage): boolean {
  return usage.tokens >= MAX_TOKENS || usage.costMicros >= MAX_MICROS;
}

/** The tokens the run may use: the total, plus the emergency reserve for fallback and emergency steps. */
function tokenLimit(spec: SpecV2, reserve: boolean): number | undefined {
  const tokens = spec.budgets?.tokens;
  return tokens?.total === undefined ? undefined : tokens.total + (reserve ? (tokens.emergency ?? 0) : 0);
}

export interface Exhaustion {
  reason: 'TokenBudgetExceeded' | 'CostBudgetExceeded';
  message: string;
  /** Usage went past the limit, not only up to it. */
  over: boolean;
}

/** The budget the run has used up, if any; `reserve` adds the emergency tokens (fallback steps). */
export function exhausted(spec: SpecV2, usage: Usage, reserve = false): Exhaustion | undefined {
  const limit = tokenLimit(spec, reserve);
  if (limit !== undefined && usage.tokens >= limit) {
    return {
      reason: 'TokenBudgetExceeded',
      message: `used ${usage.tokens} tokens of the ${reserve ? 'total plus emergency reserve' : 'total budget'} of ${limit}`,
      over: usage.tokens > limit,
    };
  }
  const maxUSD = spec.budgets?.cost?.maxUSD;
  if (maxUSD !== undefined && usage.costMicros >= moneyMicros(maxUSD)) {
    return {
      reason: 'CostBudgetExceeded',
      message: `spent $${formatMicros(usage.costMicros)} of the $${formatMicros(moneyMicros(maxUSD))} budget`,
      over: usage.costMicros > moneyMicros(maxUSD),
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
  return sum(stages.filter((stage) => stage.phase === 'Running').map((stage) => stage.grant ?? {}));
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
  const limit = tokenLimit(spec, reserve);
  // What the usage so far leaves, and of that what the running stages do not hold.
  const unusedTokens = limit === undefined ? undefined : Math.max(0, limit - usage.tokens);
  const leftTokens = unusedTokens === undefined ? undefined : Math.max(0, unusedTokens - reserved.tokens);
  const maxUSD = spec.budgets?.cost?.maxUSD;
  const unusedMicros = maxUSD === undefined ? undefined : Math.max(0, moneyMicros(maxUSD) - usage.costMicros);
  const leftMicros = unusedMicros === undefined ? undefined : Math.max(0, unusedMicros - reserved.costMicros);
  const perAgentUSD = spec.budgets?.cost?.perAgent;
  const tokenGrant = [spec.budgets?.tokens?.perAgent, leftTokens].filter(
    (value): value is number => value !== undefined,
  );
  const costGrant = [perAgentUSD === undefined ? undefined : moneyMicros(perAgentUSD), leftMicros].filter(
    (value): value is number => value !== undefined,
  );
  const grant: Grant = {
    ...(tokenGrant.length ? { tokens: Math.min(...tokenGrant) } : {}),
    ...(costGrant.length ? { costUSD: formatMicros(Math.min(...costGrant)) } : {}),
  };
  const waitFor =
    leftTokens === 0
      ? `the running stages hold all ${unusedTokens ?? 0} tokens left`
      : leftMicros === 0
        ? `the running stages hold all $${formatMicros(unusedMicros ?? 0)} left`
        : undefined;
  return waitFor ? { grant, waitFor } : { grant };
}

/** How a report went over its grant, if it did. */
export function overGrant(grant: Grant | undefined, tokens: number, costMicros: number): string | undefined {
  if (grant?.tokens !== undefined && tokens > grant.tokens)
    return `reported ${tokens} tokens, over its grant of ${grant.tokens}`;
  if (grant?.costUSD !== undefined && costMicros > moneyMicros(grant.costUSD))
    return `reported $${formatMicros(costMicros)}, over its grant of $${grant.costUSD}`;
  return undefined;
}

export function crossedAlert(spec: SpecV2, usage: Usage): boolean {
  const threshold = spec.budgets?.cost?.alertThreshold;
  return threshold !== undefined && usage.costMicros >= moneyMicros(threshold);
}

type Budgets = NonNullable<SpecV2['budgets']>;

/**
 * `base` capped by `cap`: each limit the smaller of the two (a limit only one sets is kept), and
 * the shares of a total (perAgent, alertThreshold, emergency) no more than the capped total, so the
 * result is a budget the schema and the webhook accept. A runbook made from a template caps the
 * template's budgets so; a child runbook's are capped at its stage's grant.
 */
export function capBudgets(base: Budgets | undefined, cap: Budgets | undefined): Budgets | undefined {
  if (!cap) return base;
  if (!base) return cap;
  const least = (...values: (number | undefined)[]) => {
    const known = values.filter((value): value is number => value !== undefined);
    return known.length ? Math.min(...known) : undefined;
  };
  /** The smaller of a share the two set, and never more than the total; undefined when neither sets it. */
  const share = (a: number | undefined, b: number | undefined, total: number | undefined) =>
    a === undefined && b === undefined ? undefined : least(a, b, total);
  const micros = (amount: string | number | undefined) =>
    amount === undefined ? undefined : moneyMicros(amount);
  const dollars = (value: number | undefined) => (value === undefined ? undefined : formatMicros(value));
  const shortest = (...texts: (string | undefined)[]) =>
    texts
      .filter((text): text is string => text !== undefined)
      .sort((a, b) => parseDurationMs(a) - parseDurationMs(b))[0];
  const tokens = least(base.tokens?.total, cap.tokens?.total);
  const maxMicros = least(micros(base.cost?.maxUSD), micros(cap.cost?.maxUSD));
  const timeTotal = shortest(base.time?.total, cap.time?.total);
  const tokenBudget = {
    ...definedAs('total', tokens),
    ...definedAs('perAgent', share(base.tokens?.perAgent, cap.tokens?.perAgent, tokens)),
    ...definedAs('emergency', least(base.tokens?.emergency, cap.tokens?.emergency)),
  };
  const costBudget = {
    ...definedAs('maxUSD', dollars(maxMicros)),
    ...definedAs(
      'perAgent',
      dollars(share(micros(base.cost?.perAgent), micros(cap.cost?.perAgent), maxMicros)),
    ),
    ...definedAs(
      'alertThreshold',
      dollars(share(micros(base.cost?.alertThreshold), micros(cap.cost?.alertThreshold), maxMicros)),
    ),
  };
  const time = {
    ...definedAs('total', timeTotal),
    ...(base.time?.perStage || cap.time?.perStage
      ? definedAs('perStage', shortest(base.time?.perStage, cap.time?.perStage, timeTotal))
      : {}),
  };
  return {
    ...(Object.keys(tokenBudget).length ? { tokens: tokenBudget } : {}),
    ...(Object.keys(costBudget).length ? { cost: costBudget } : {}),
    ...(Object.keys(time).length ? { time } : {}),
  };
}

function definedAs<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
