import { Type } from '@sinclair/typebox';
import { Obj, Int, Duration, Money, positiveDuration } from '../schema-kit.js';

const MAX_TOKENS = 1_000_000_000_000;

export const TokenBudget = Obj(
  'Token limits. Usage comes from what the agents report.',
  {
    total: Type.Optional(Int('Most tokens the whole run may use.', { minimum: 0, maximum: MAX_TOKENS })),
    perAgent: Type.Optional(
      Int(
        'Most tokens one stage attempt may use; at most total. Without it a starting stage is granted all that is left, so stages run one at a time.',
        { minimum: 0, maximum: MAX_TOKENS },
      ),
    ),
    emergency: Type.Optional(
      Int('Reserve on top of total that only fallback and emergency steps may spend.', {
        minimum: 0,
        maximum: MAX_TOKENS,
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

export const CostBudget = Obj(
  'Cost limits, in US dollars.',
  {
    maxUSD: Type.Optional(Money('Most the whole run may cost.')),
    perAgent: Type.Optional(
      Money(
        'Most one stage attempt may cost; at most maxUSD. Without it a starting stage is granted all that is left, so stages run one at a time.',
      ),
    ),
    alertThreshold: Type.Optional(
      Money('Spending at which the runbook raises a BudgetAlert; at most maxUSD.'),
    ),
  },
  {
    celRules: [
      {
        rule: '!has(self.alertThreshold) || !has(self.maxUSD) || double(self.alertThreshold) <= double(self.maxUSD)',
        message: 'alertThreshold must not exceed maxUSD',
        fieldPath: '.alertThreshold',
      },
      {
        rule: '!has(self.perAgent) || !has(self.maxUSD) || double(self.perAgent) <= double(self.maxUSD)',
        message: 'perAgent must not exceed maxUSD',
        fieldPath: '.perAgent',
      },
    ],
  },
);

export const Budgets = Obj('Token, time and cost budgets the operator enforces.', {
  tokens: Type.Optional(TokenBudget),
  time: Type.Optional(TimeBudget),
  cost: Type.Optional(CostBudget),
});
