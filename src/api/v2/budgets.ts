import { Type, type Static } from '@sinclair/typebox';
import { Obj, Int, Duration, MoneyAmount, OneShapeOf, positiveDuration } from '../schema-kit.js';
import { formatMicros, moneyMicros } from '../grammar.js';
import { MAX_TOKEN_BUDGET } from '../limits.js';

export const TokenBudget = Obj(
  'Token limits. Usage comes from what the agents report.',
  {
    total: Type.Optional(
      Int('Most tokens the whole run may use.', { minimum: 0, maximum: MAX_TOKEN_BUDGET }),
    ),
    perAgent: Type.Optional(
      Int(
        'Most tokens one stage attempt may use; at most total. Without it a starting stage is granted all that is left, so stages run one at a time.',
        { minimum: 0, maximum: MAX_TOKEN_BUDGET },
      ),
    ),
    emergency: Type.Optional(
      Int('Reserve on top of total that only fallback and emergency steps may spend.', {
        minimum: 0,
        maximum: MAX_TOKEN_BUDGET,
      }),
    ),
  },
  {
    celRules: [
      {
        rule: '!has(self.perAgent) || !has(self.total) || self.perAgent <= self.total',
        message: 'perAgent must not exceed total',
        fieldPath: '.perAgent',
      },
    ],
  },
);

export const TimeBudget = Obj(
  'Time limits.',
  {
    total: Type.Optional(Duration('Most wall-clock time the whole run may take.')),
    perStage: Type.Optional(Duration('Most time one stage attempt may take.')),
  },
  {
    celRules: [
      positiveDuration('total'),
      positiveDuration('perStage'),
      {
        rule: '!has(self.perStage) || !has(self.total) || duration(self.perStage) <= duration(self.total)',
        message: 'perStage must not exceed total',
        fieldPath: '.perStage',
      },
    ],
  },
);

/** Their order to maxUSD (at most it) is checked by the webhook: the CRD cannot read an untyped amount. */
export const CostBudget = Obj('Cost limits, in US dollars.', {
  maxUSD: Type.Optional(MoneyAmount('Most the whole run may cost.')),
  perAgent: Type.Optional(
    MoneyAmount(
      'Most one stage attempt may cost; at most maxUSD. Without it a starting stage is granted all that is left, so stages run one at a time.',
    ),
  ),
  alertThreshold: Type.Optional(
    MoneyAmount('Spending at which the runbook raises a BudgetAlert; at most maxUSD.'),
  ),
});

export const Budgets = Obj('Token, time and cost budgets the operator enforces.', {
  tokens: Type.Optional(TokenBudget),
  time: Type.Optional(TimeBudget),
  cost: Type.Optional(CostBudget),
});

/**
 * An environment's budgets: each as in spec.budgets, or in the specification's short form, a
 * number for the whole run (tokens: 500000 is tokens.total, cost: 50.00 is cost.maxUSD). What the
 * overlay leaves out is inherited from spec.budgets.
 */
export const BudgetsOverlay = Obj(
  'Budgets deep-merged over spec.budgets; tokens and cost may each be a number, short for tokens.total and cost.maxUSD.',
  {
    tokens: Type.Optional(
      OneShapeOf<number | Static<typeof TokenBudget>>(
        'Token limits as in spec.budgets.tokens (total, perAgent, emergency), or a number: short for {total: <number>}.',
        { type: 'object' },
        TokenBudget,
        Int('Most tokens the whole run may use.', { minimum: 0, maximum: MAX_TOKEN_BUDGET }),
      ),
    ),
    time: Type.Optional(TimeBudget),
    cost: Type.Optional(
      OneShapeOf<string | number | Static<typeof CostBudget>>(
        'Cost limits as in spec.budgets.cost (maxUSD, perAgent, alertThreshold), or an amount: short for {maxUSD: <amount>}, as a decimal string ("50.00") or a number (50.00).',
        { type: 'object' },
        CostBudget,
        MoneyAmount('Most the whole run may cost.'),
      ),
    ),
  },
);

export type BudgetsV2 = Static<typeof Budgets>;
export type BudgetsOverlayV2 = Static<typeof BudgetsOverlay>;

/** Budgets as the engine reads them: the long form, every amount a decimal string. */
export interface BudgetLimits {
  tokens?: Static<typeof TokenBudget>;
  time?: Static<typeof TimeBudget>;
  cost?: { maxUSD?: string; perAgent?: string; alertThreshold?: string };
}

const decimal = (amount: string | number | undefined) =>
  amount === undefined ? undefined : formatMicros(moneyMicros(amount));

function longCost(cost: BudgetsOverlayV2['cost']): BudgetLimits['cost'] {
  if (cost === undefined) return undefined;
  if (typeof cost !== 'object') return { maxUSD: decimal(cost) };
  const amounts = {
    maxUSD: decimal(cost.maxUSD),
    perAgent: decimal(cost.perAgent),
    alertThreshold: decimal(cost.alertThreshold),
  };
  return Object.fromEntries(Object.entries(amounts).filter(([, value]) => value !== undefined));
}

/** Budgets in the long form, whichever form they were written in. */
export function budgetLimits(budgets: BudgetsV2 | BudgetsOverlayV2 | undefined): BudgetLimits | undefined {
  if (!budgets) return undefined;
  const { tokens, time } = budgets;
  const cost = longCost(budgets.cost);
  return {
    ...(tokens === undefined ? {} : { tokens: typeof tokens === 'number' ? { total: tokens } : tokens }),
    ...(time === undefined ? {} : { time }),
    ...(cost === undefined ? {} : { cost }),
  };
}

/**
 * An overlay may lower a whole below a share inherited from spec.budgets (cost: 5.00 under an
 * alertThreshold of 8.00): the share is lowered to the whole, and each lowering is said.
 */
export function clampBudgets(limits: BudgetLimits): { limits: BudgetLimits; clamped: string[] } {
  const clamped: string[] = [];
  let { tokens, cost } = limits;
  if (tokens?.total !== undefined && tokens.perAgent !== undefined && tokens.perAgent > tokens.total) {
    clamped.push(`tokens.perAgent (${tokens.perAgent}) lowered to tokens.total (${tokens.total})`);
    tokens = { ...tokens, perAgent: tokens.total };
  }
  const maxUSD = cost?.maxUSD;
  for (const share of ['perAgent', 'alertThreshold'] as const) {
    const amount = cost?.[share];
    if (maxUSD === undefined || amount === undefined || moneyMicros(amount) <= moneyMicros(maxUSD)) continue;
    clamped.push(`cost.${share} (${amount}) lowered to cost.maxUSD (${maxUSD})`);
    cost = { ...cost, [share]: maxUSD };
  }
  return {
    limits: { ...limits, ...(tokens ? { tokens } : {}), ...(cost ? { cost } : {}) },
    clamped,
  };
}
