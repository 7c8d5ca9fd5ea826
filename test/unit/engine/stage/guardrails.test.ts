import { expect } from 'chai';
import fc from 'fast-check';
import { decideGate, EngineHarness, runbookOf, spec } from '../../../support/engine-harness.js';
import { ENV } from '../../../../src/api/agent-contract.js';
import { strategyDelayMs } from '../../../../src/engine/stage/retry.js';
import type { SpecV2 } from '../../../../src/api/v2/runbook.js';

const stage = (name: string, extra: Record<string, unknown> = {}) => ({ name, ...extra });
const budgetOf = (h: EngineHarness, index = 0) =>
  JSON.parse(h.last?.create[index]?.env[ENV.budget] ?? '{}') as Record<string, unknown>;

describe('guardrails: time', () => {
  it('hands each Job the smallest of its timeout, budgets.time.perStage and what is left of the run', () => {
    const h = new EngineHarness(
      runbookOf(
        spec({
          execution: { mode: 'pipeline', timeout: '10m' },
          budgets: { time: { perStage: '5m' } },
          stages: [stage('a', { config: { timeout: '2m' } }), stage('b')],
        }),
      ),
    );
    h.step();
    expect(h.last?.create[0]?.activeDeadlineSeconds).to.equal(120);
    h.now = new Date(h.now.getTime() + 7 * 60_000);
    h.succeed('a');
    h.step();
    expect(h.last?.create[0]?.activeDeadlineSeconds).to.be.within(170, 180);
  });

  it('ends the run TimedOut at its deadline, stopping what runs, counted from the start time in status', () => {
    const h = new EngineHarness(
      runbookOf(spec({ execution: { mode: 'hybrid', timeout: '15m' }, stages: [stage('a')] })),
    );
    const first = h.step();
    expect(first.requeueAfterMs).to.equal(15 * 60_000);
    h.now = new Date(Date.parse(h.runbook.status?.startTime ?? '') + 15 * 60_000 + 3000);
    const decision = h.step();
    expect(h.phase).to.equal('TimedOut');
    expect(decision.delete).to.have.length(1);
    expect(h.condition('TimedOut')).to.include({ status: 'True', reason: 'DeadlineExceeded' });
    expect(h.condition('TimedOut')?.message).to.contain('15m3s').and.contain('15m');
  });

  it('budgets.time.total limits the run the same way', () => {
    const h = new EngineHarness(
      runbookOf(spec({ budgets: { time: { total: '1m' } }, stages: [stage('a')] })),
    );
    expect(h.step().requeueAfterMs).to.equal(60_000);
  });
});

describe('guardrails: retries', () => {
  const retrying = (strategy: NonNullable<SpecV2['retryStrategies']>[string], retries = 3) =>
    new EngineHarness(
      runbookOf(
        spec({
          execution: { mode: 'hybrid', retries, retryStrategy: 's' },
          retryStrategies: { s: strategy },
          stages: [stage('a')],
        }),
      ),
    );

  it('waits the strategy’s delay, stored in status, before the next attempt', () => {
    const h = retrying({ type: 'exponential', baseDelay: '2s', maxDelay: '30s', multiplier: 2 });
    h.step();
    const failedAt = h.now.getTime();
    h.fail('a', { error: { class: 'API_ERROR' } });
    const waiting = h.step();
    expect(h.stage('a')).to.include({ phase: 'Retrying', lastError: 'API_ERROR' });
    expect(Date.parse(h.stage('a').nextAttemptTime ?? '') - failedAt).to.equal(2000);
    expect(waiting.create).to.deep.equal([]);
    expect(waiting.requeueAfterMs).to.be.within(1, 2000);
    h.now = new Date(failedAt + 2000);
    expect(h.step().create.map((plan) => plan.attempt)).to.deep.equal([2]);
  });

  it('linear: maxAttempts caps the attempts', () => {
    const h = retrying({ type: 'linear', initialDelay: '1s', increment: '1s', maxAttempts: 2 }, 5);
    h.step();
    h.fail('a', { error: { class: 'API_ERROR' } });
    h.step();
    h.now = new Date(h.now.getTime() + 5000);
    h.step();
    h.fail('a', { error: { class: 'API_ERROR' } });
    h.step();
    expect(h.stage('a')).to.include({ phase: 'Failed', attempt: 2 });
  });

  it('custom: retries only the listed error classes', () => {
    const h = retrying({
      type: 'custom',
      function: 'customRetryLogic',
      parameters: { conditions: ['RATE_LIMIT'], backoffMultiplier: 1.5 },
    });
    h.step();
    h.fail('a', { error: { class: 'API_ERROR' } });
    h.step();
    expect(h.stage('a')).to.include({ phase: 'Failed', attempt: 1 });
  });

  it('backoff: never above maxDelay, growing without jitter, identical for the same Job name', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 1, max: 60_000 }),
        fc.double({ min: 1, max: 4, noNaN: true }),
        fc.boolean(),
        fc.string(),
        (base, max, multiplier, jitter, job) => {
          const strategy = {
            type: 'exponential' as const,
            baseDelay: `${base}ms`,
            maxDelay: `${max}ms`,
            multiplier,
            jitter,
          };
          let previous = 0;
          for (let attempt = 1; attempt <= 12; attempt += 1) {
            const delay = strategyDelayMs(strategy, attempt, job);
            expect(delay).to.be.at.most(max);
            expect(delay).to.equal(strategyDelayMs(strategy, attempt, job));
            if (!jitter) expect(delay).to.be.at.least(previous);
            previous = delay;
          }
        },
      ),
    );
  });
});

describe('guardrails: budgets', () => {
  it('hands each Job min(perAgent, what is left of the total)', () => {
    const h = new EngineHarness(
      runbookOf(
        spec({
          execution: { mode: 'pipeline' },
          budgets: { tokens: { total: 1000, perAgent: 600 } },
          stages: [stage('a'), stage('b')],
        }),
      ),
    );
    h.step();
    expect(budgetOf(h).tokens).to.equal(600);
    h.succeed('a', {}, { tokens: 550, costUSD: '0' });
    h.step();
    expect(budgetOf(h).tokens).to.equal(450);
  });

  it('stops the run BudgetExceeded when the tokens are used up, naming the figures', () => {
    const h = new EngineHarness(
      runbookOf(
        spec({
          budgets: { tokens: { total: 1000, perAgent: 500 } },
          stages: [stage('a'), stage('b'), stage('c', { dependsOn: ['a'] })],
        }),
      ),
    );
    h.step();
    h.succeed('a', {}, { tokens: 1200, costUSD: '0' });
    const decision = h.step();
    expect(h.phase).to.equal('BudgetExceeded');
    expect(decision.create).to.deep.equal([]);
    expect(decision.delete).to.have.length(1);
    expect(h.condition('BudgetExceeded')).to.include({ status: 'True', reason: 'TokenBudgetExceeded' });
    expect(h.condition('BudgetExceeded')?.message).to.contain('1200').and.contain('1000');
  });

  it('stops the run when the cost reaches maxUSD, and raises one BudgetAlert at the threshold', () => {
    const h = new EngineHarness(
      runbookOf(
        spec({
          execution: { mode: 'pipeline' },
          budgets: { cost: { maxUSD: '1.00', alertThreshold: '0.50' } },
          stages: [stage('a'), stage('b'), stage('c')],
        }),
      ),
    );
    h.step();
    h.succeed('a', {}, { tokens: 1, costUSD: '0.60' });
    const alerted = h.step();
    expect(h.condition('BudgetAlert')).to.include({ status: 'True' });
    expect(alerted.events.filter((e) => e.reason === 'BudgetAlert')).to.have.length(1);
    h.succeed('b', {}, { tokens: 1, costUSD: '0.40' });
    const stopped = h.step();
    expect(stopped.events.filter((e) => e.reason === 'BudgetAlert')).to.have.length(0);
    expect(h.phase).to.equal('BudgetExceeded');
    expect(h.condition('BudgetExceeded')?.message).to.contain('$1.00');
  });

  it('never starts a main stage once the token total is used up (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 1500 }),
        (costs, total) => {
          const h = new EngineHarness(
            runbookOf(
              spec({
                execution: { mode: 'pipeline' },
                budgets: { tokens: { total } },
                stages: costs.map((_, i) => stage(`s${i}`)),
              }),
            ),
          );
          let used = 0;
          for (const tokens of costs) {
            const decision = h.step();
            if (decision.create.length) expect(used).to.be.below(total);
            const active = h.active()[0];
            if (!active) break;
            h.succeed(active.stage, {}, { tokens, costUSD: '0' });
            used += tokens;
          }
        },
      ),
    );
  });
});

describe('guardrails: quality gates', () => {
  const gated = (gates: unknown[], extra: Partial<SpecV2> = {}) =>
    new EngineHarness(
      runbookOf(
        spec({
          context: { riskLevel: 9 },
          quality: { gates } as SpecV2['quality'],
          stages: [stage('a'), stage('b', { dependsOn: ['a'] })],
          ...extra,
        }),
      ),
    );
  it('holds the run WaitingForApproval until a GateDecision approves the gate', () => {
    const h = gated([{ name: 'review', required: true }]);
    expect(h.step().create).to.deep.equal([]);
    expect(h.phase).to.equal('WaitingForApproval');
    // Ready says what the phase says, not Running.
    expect(h.condition('Ready')).to.include({ status: 'False', reason: 'WaitingForApproval' });
    expect(h.condition('ApprovalPending')?.message)
      .to.contain('review')
      .and.contain('agentrunbook approve rb review -n ns');
    decideGate(h, 'review', 'Approved');
    expect(h.step().create.map((plan) => plan.stage)).to.deep.equal(['a']);
    expect(h.condition('Ready')).to.include({ status: 'False', reason: 'Running' });
    expect(h.runbook.status?.gates?.[0]).to.include({
      name: 'review',
      phase: 'Approved',
      decidedBy: 'alice',
      generation: 1,
    });
    expect(h.condition('ApprovalPending')).to.equal(undefined);
  });

  it('fails the run GateRejected when the gate is rejected', () => {
    const h = gated([{ name: 'review', required: true }]);
    h.step();
    decideGate(h, 'review', 'Rejected');
    h.step();
    expect(h.phase).to.equal('Failed');
    expect(h.condition('Failed')).to.include({ reason: 'GateRejected' });
  });

  it('fails the run GateTimedOut when no decision comes in time', () => {
    const h = gated([{ name: 'review', required: true, timeout: '4h' }]);
    expect(h.step().requeueAfterMs).to.equal(4 * 3600_000);
    h.now = new Date(h.now.getTime() + 4 * 3600_000);
    h.step();
    expect(h.condition('Failed')).to.include({ reason: 'GateTimedOut' });
    expect(h.runbook.status?.gates?.[0]).to.include({ phase: 'TimedOut' });
  });

  it('skips a gate whose CEL condition is false, and holds on one whose condition is true', () => {
    const h = gated([
      { name: 'low', condition: 'context.riskLevel > 10' },
      { name: 'review', condition: 'context.riskLevel > 7' },
    ]);
    h.step();
    expect(h.runbook.status?.gates?.map((g) => g.phase)).to.deep.equal(['NotApplicable', 'Pending']);
  });

  it('holds only the stage a before-gate guards, once that stage is otherwise ready', () => {
    const h = gated([{ name: 'review', required: true, before: 'b' }]);
    expect(h.step().create.map((plan) => plan.stage)).to.deep.equal(['a']);
    expect(h.runbook.status?.gates?.[0]?.since).to.equal(undefined);
    h.succeed('a');
    expect(h.step().create).to.deep.equal([]);
    expect(h.phase).to.equal('WaitingForApproval');
    expect(h.runbook.status?.gates?.[0]?.since).to.be.a('string');
    decideGate(h, 'review', 'Approved');
    expect(h.step().create.map((plan) => plan.stage)).to.deep.equal(['b']);
  });

  it('waits (fails closed) on a condition that cannot be evaluated', () => {
    const h = gated([{ name: 'review', condition: 'context.nothing > 1' }]);
    h.step();
    expect(h.runbook.status?.gates?.[0]?.phase).to.equal('Pending');
    expect(h.runbook.status?.gates?.[0]?.message).to.contain('could not be evaluated');
  });
});

describe('guardrails: environments', () => {
  it('merges the chosen overlay over execution, budgets and agent parameters, and shows it in status', () => {
    const h = new EngineHarness(
      runbookOf(
        spec({
          environment: 'testing',
          budgets: { tokens: { total: 250000, perAgent: 25000 } },
          environments: {
            testing: {
              execution: { retries: 1 },
              budgets: { tokens: { total: 5000 } },
              agents: { a: { config: { depth: 'minimal' } } },
            },
          },
          stages: [stage('a', { config: { parameters: { depth: 'deep', sources: ['web'] } } })],
        }),
      ),
    );
    h.step();
    expect(budgetOf(h).tokens).to.equal(5000);
    expect(JSON.parse(h.last?.create[0]?.env[ENV.parameters] ?? '')).to.deep.equal({
      depth: 'minimal',
      sources: ['web'],
    });
    expect(h.runbook.status?.effective).to.deep.include({ environment: 'testing' });
    expect((h.runbook.status?.effective as { budgets: unknown }).budgets).to.deep.equal({
      tokens: { total: 5000, perAgent: 5000 },
    });
  });
});

describe('a run that went over its budget (issue 25)', () => {
  it('ends BudgetExceeded, not Failed, when its last stage reports more than its grant', () => {
    const h = new EngineHarness(
      runbookOf(
        spec({
          execution: { mode: 'pipeline' },
          budgets: { tokens: { total: 2500 } },
          stages: [{ name: 'a' }, { name: 'b' }, { name: 'c' }],
        }),
      ),
    );
    h.step();
    h.succeed('a', {}, { tokens: 1200, costUSD: '0.01' });
    h.step();
    h.succeed('b', {}, { tokens: 1218, costUSD: '0.01' });
    h.step();
    expect(h.stage('c').grant).to.deep.equal({ tokens: 82 });
    h.succeed('c', {}, { tokens: 806, costUSD: '0.01' });
    h.step();
    expect(h.phase).to.equal('BudgetExceeded');
    expect(h.condition('BudgetExceeded')).to.include({
      reason: 'TokenBudgetExceeded',
      message: 'used 3224 tokens of the total budget of 2500',
    });
    // The stage that went over still says so.
    expect(h.stage('c')).to.include({ phase: 'Failed', reason: 'AgentBudgetExceeded' });
  });

  it('ends Succeeded when the stages used exactly the budget', () => {
    const h = new EngineHarness(
      runbookOf(spec({ budgets: { tokens: { total: 100 } }, stages: [{ name: 'a' }] })),
    );
    h.step();
    h.succeed('a', {}, { tokens: 100, costUSD: '0.01' });
    h.step();
    expect(h.phase).to.equal('Succeeded');
  });
});
