import { expect } from 'chai';
import { capBudgets } from '../../../../src/engine/stage/budget.js';

describe('capping budgets (a template-made runbook’s own, a child runbook’s grant)', () => {
  it('keeps each limit the smaller of the two, and the shares within the capped totals', () => {
    expect(
      capBudgets(
        {
          tokens: { total: 500_000, perAgent: 125_000, emergency: 10_000 },
          cost: { maxUSD: '50.00', perAgent: '12.50', alertThreshold: '40.00' },
          time: { total: '1h', perStage: '30m' },
        },
        { tokens: { total: 20_000 }, cost: { maxUSD: 5 }, time: { total: '10m' } },
      ),
    ).to.deep.equal({
      tokens: { total: 20_000, perAgent: 20_000, emergency: 10_000 },
      cost: { maxUSD: '5.00', perAgent: '5.00', alertThreshold: '5.00' },
      time: { total: '10m', perStage: '10m' },
    });
  });

  it('never raises a limit, and keeps a limit only one of them sets', () => {
    expect(
      capBudgets({ tokens: { total: 100 } }, { tokens: { total: 1_000 }, cost: { maxUSD: '2.00' } }),
    ).to.deep.equal({
      tokens: { total: 100 },
      cost: { maxUSD: '2.00' },
    });
    expect(capBudgets(undefined, { tokens: { total: 7 } })).to.deep.equal({ tokens: { total: 7 } });
    expect(capBudgets({ tokens: { total: 7 } }, undefined)).to.deep.equal({ tokens: { total: 7 } });
  });
});
