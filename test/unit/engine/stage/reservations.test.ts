import { expect } from 'chai';
import fc from 'fast-check';
import { ENV } from '../../../../src/api/agent-contract.js';
import { EngineHarness, runbookOf, spec } from '../../../support/engine-harness.js';
import type { SpecV2 } from '../../../../src/api/v2/runbook.js';

const grantOf = (h: EngineHarness, stage: string) =>
  JSON.parse(h.plans.get(h.activeFor(stage).name)?.env[ENV.budget] ?? '{}') as {
    tokens?: number;
    costUSD?: string;
  };

const parallel = (budgets: SpecV2['budgets'], count = 3) =>
  new EngineHarness(
    runbookOf(
      spec({ budgets, stages: Array.from({ length: count }, (_, index) => ({ name: `s${index}` })) }),
    ),
  );

describe('budgets by reservation', () => {
  it('grants min(perAgent, what the running stages leave of the total), and a stage waits for a grant', () => {
    const h = parallel({ tokens: { total: 1000, perAgent: 600 } });
    const first = h.step();
    expect(first.create.map((plan) => plan.stage)).to.deep.equal(['s0', 's1']);
    expect(grantOf(h, 's0').tokens).to.equal(600);
    expect(grantOf(h, 's1').tokens).to.equal(400);
    expect(h.stage('s1').grant).to.deep.equal({ tokens: 400 });
    expect(h.stage('s2')).to.include({ phase: 'Pending', reason: 'WaitingForBudget' });
    expect(h.stage('s2').message).to.contain('hold all 1000 tokens left');
    h.succeed('s0', {}, { tokens: 100, costUSD: '0' });
    expect(h.step().create.map((plan) => plan.stage)).to.deep.equal(['s2']);
    expect(grantOf(h, 's2').tokens, '1000 - 100 used - 400 held by s1').to.equal(500);
  });

  it('a Job its status does not record (the status write that went with it failed) is adopted with its grant', () => {
    const h = parallel({ tokens: { total: 1000, perAgent: 600 } });
    const before = h.runbook;
    h.step();
    // The status write failed; the Jobs were created together with it.
    h.runbook = before;
    h.step();
    expect(h.stage('s0')).to.include({ phase: 'Running', attempt: 1, reason: 'Started' });
    expect(h.stage('s0').grant).to.deep.equal({ tokens: 600 });
    expect(h.stage('s1').grant).to.deep.equal({ tokens: 400 });
    // Adopted with their grants, s0 and s1 still hold all of the total: s2 waits.
    expect(h.stage('s2')).to.include({ phase: 'Pending', reason: 'WaitingForBudget' });
    expect(h.last?.create).to.deep.equal([]);
  });

  it('does the same for dollars', () => {
    const h = parallel({ cost: { maxUSD: '1.00', perAgent: '0.60' } });
    h.step();
    expect(grantOf(h, 's0').costUSD).to.equal('0.60');
    expect(grantOf(h, 's1').costUSD).to.equal('0.40');
    expect(h.active()).to.have.length(2);
  });

  it('fails a stage that reports more than its grant with AgentBudgetExceeded, not retried, its usage counted', () => {
    const h = new EngineHarness(
      runbookOf(
        spec({
          execution: { mode: 'hybrid', retries: 3 },
          budgets: { tokens: { total: 100_000, perAgent: 100 } },
          stages: [{ name: 'a' }],
        }),
      ),
    );
    h.step();
    h.succeed('a', { text: 'long' }, { tokens: 5000, costUSD: '0' });
    h.step();
    expect(h.stage('a')).to.include({
      phase: 'Failed',
      reason: 'AgentBudgetExceeded',
      lastError: 'QUOTA_EXCEEDED',
    });
    expect(h.stage('a').message).to.equal('attempt 1 reported 5000 tokens, over its grant of 100');
    expect(h.stage('a').outputs).to.equal(undefined);
    expect(h.runbook.status?.usage?.tokens).to.equal(5000);
    expect(h.phase).to.equal('Failed');
  });

  it('never lets usage pass total plus the emergency reserve while agents keep to their grants (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.record({
          count: fc.integer({ min: 1, max: 8 }),
          parallelism: fc.integer({ min: 1, max: 5 }),
          total: fc.integer({ min: 0, max: 5000 }),
          perAgent: fc.option(fc.integer({ min: 0, max: 5000 }), { nil: undefined }),
          maxMicros: fc.integer({ min: 0, max: 5_000_000 }),
          costShare: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
          fallback: fc.boolean(),
          emergency: fc.integer({ min: 0, max: 2000 }),
          spend: fc.array(fc.tuple(fc.nat(), fc.double({ min: 0, max: 1, noNaN: true }), fc.boolean()), {
            minLength: 60,
            maxLength: 60,
          }),
        }),
        (s) => {
          const perAgent = s.perAgent === undefined ? undefined : Math.min(s.perAgent, s.total);
          const runbook = runbookOf(
            spec({
              execution: { mode: 'hybrid', parallelism: s.parallelism },
              budgets: {
                tokens: {
                  total: s.total,
                  emergency: s.emergency,
                  ...(perAgent === undefined ? {} : { perAgent }),
                },
                cost: {
                  maxUSD: (s.maxMicros / 1e6).toFixed(6),
                  ...(s.costShare === undefined
                    ? {}
                    : { perAgent: (Math.floor(s.maxMicros * s.costShare) / 1e6).toFixed(6) }),
                },
              },
              stages: Array.from({ length: s.count }, (_, index) => ({ name: `s${index}` })),
              ...(s.fallback
                ? {
                    workflows: {
                      fallback: {
                        trigger: { conditions: ['API_ERROR'], threshold: 1 },
                        steps: [{ name: 'cheap', agent: 's0' }],
                      },
                    },
                  }
                : {}),
            }),
          );
          const h = new EngineHarness(runbook);
          for (const [pick, fraction, fail] of s.spend) {
            h.step();
            const usage = h.runbook.status?.usage;
            expect(usage?.tokens ?? 0).to.be.at.most(s.total + s.emergency);
            const main = (h.runbook.status?.stages ?? []).filter((stage) => stage.workflow === 'main');
            const mainTokens = main.reduce((sum, stage) => sum + (stage.usage?.tokens ?? 0), 0);
            expect(mainTokens, 'only fallback steps may spend the reserve').to.be.at.most(s.total);
            expect(Math.round(Number(usage?.costUSD ?? '0') * 1e6)).to.be.at.most(s.maxMicros);
            const active = h.active();
            const job = active[pick % Math.max(1, active.length)];
            if (!job) break;
            const grant = grantOf(h, job.stage);
            const report = {
              tokens: Math.floor((grant.tokens ?? 0) * fraction),
              costUSD: (Math.floor(Number(grant.costUSD ?? '0') * 1e6 * fraction) / 1e6).toFixed(6),
            };
            if (fail) h.fail(job.stage, { error: { class: 'API_ERROR' }, usage: report });
            else h.succeed(job.stage, {}, report);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
