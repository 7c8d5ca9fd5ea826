import { expect } from 'chai';
import { EngineHarness, runbookOf, spec } from '../../../support/engine-harness.js';
import type { SpecV2 } from '../../../../src/api/v2/runbook.js';

const oneStage = (history: SpecV2['history']) => spec({ stages: [{ name: 'a' }], history });

/** Runs the harness's runbook to Succeeded: start the stage, succeed it, record the end. */
function runToSuccess(h: EngineHarness) {
  h.step();
  h.succeed('a');
  const ended = h.step();
  expect(h.phase).to.equal('Succeeded');
  return ended;
}

function newGeneration(h: EngineHarness) {
  h.runbook = {
    ...h.runbook,
    metadata: { ...h.runbook.metadata, generation: h.runbook.metadata.generation + 1 },
  };
}

describe('history: the Jobs of finished runs', () => {
  it('keeps the newest spec.history.limit finished runs and removes the Jobs of older ones', () => {
    const h = new EngineHarness(runbookOf(oneStage({ limit: 1 })));
    runToSuccess(h);
    newGeneration(h);
    const ended = runToSuccess(h);
    // The run that just ended does not count yet (its status is not stored): nothing goes.
    expect(ended.delete).to.deep.equal([]);
    expect(ended.requeueAfterMs).to.equal(1000);
    const next = h.step();
    expect(next.delete.map((d) => d.reason)).to.deep.equal(['HistoryLimit']);
    expect(h.jobs.map((job) => job.execution)).to.deep.equal(['g2']);
  });

  it('counts the current run as the newest even when a past run finished in the same second', () => {
    const h = new EngineHarness(runbookOf(oneStage({ limit: 1 })));
    runToSuccess(h);
    newGeneration(h);
    runToSuccess(h);
    // Timestamps have whole seconds: a fast earlier run can seem to end with the current one.
    const finished = h.runbook.status?.completionTime;
    for (const job of h.jobs) job.completionTime = finished;
    const next = h.step();
    expect(next.delete.map((d) => d.reason)).to.deep.equal(['HistoryLimit']);
    expect(h.jobs.map((job) => job.execution)).to.deep.equal(['g2']);
  });

  it('keeps 3 finished runs when spec.history says nothing, as CronJob keeps 3 successful Jobs', () => {
    const h = new EngineHarness(runbookOf(oneStage(undefined)));
    for (let run = 0; run < 5; run += 1) {
      if (run > 0) newGeneration(h);
      runToSuccess(h);
      h.step();
    }
    expect(h.jobs.map((job) => job.execution)).to.deep.equal(['g3', 'g4', 'g5']);
  });

  it('with limit 0 removes a run’s Jobs in the reconcile after the one that finished it, never in that one', () => {
    const h = new EngineHarness(runbookOf(oneStage({ limit: 0 })));
    const ended = runToSuccess(h);
    expect(ended.delete).to.deep.equal([]);
    expect(h.step().delete.map((d) => d.reason)).to.deep.equal(['HistoryLimit']);
    expect(h.jobs).to.deep.equal([]);
    expect(h.stage('a')).to.include({ phase: 'Succeeded' });
  });

  it('removes the Jobs of a run finished longer ago than ttlAfterFinished, and looks again when that time comes', () => {
    const h = new EngineHarness(runbookOf(oneStage({ limit: 3, ttlAfterFinished: '1h' })));
    runToSuccess(h);
    const kept = h.step();
    expect(kept.delete).to.deep.equal([]);
    expect(kept.requeueAfterMs).to.be.within(3_597_000, 3_600_000);
    h.now = new Date(h.now.getTime() + 3_600_000);
    expect(h.step().delete.map((d) => d.reason)).to.deep.equal(['HistoryExpired']);
  });

  it('keeps a Job whose infrastructure failure holds its agent’s circuit breaker until the reset timeout has passed', () => {
    const h = new EngineHarness(runbookOf(oneStage({ limit: 0 })), {
      agents: [{ name: 'a', image: 'x', circuitBreaker: { threshold: 1, resetTimeout: '10m' } }],
    });
    h.step();
    h.fail('a', { error: { class: 'RATE_LIMIT' } }, { agent: 'a' });
    h.step();
    expect(h.phase).to.equal('Failed');
    const held = h.step();
    expect(held.delete).to.deep.equal([]);
    expect(held.requeueAfterMs).to.be.within(590_000, 600_000);
    h.now = new Date(h.now.getTime() + 600_000);
    expect(h.step().delete.map((d) => d.reason)).to.deep.equal(['HistoryLimit']);
  });
});
