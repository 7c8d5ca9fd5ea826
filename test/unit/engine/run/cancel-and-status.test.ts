import { expect } from 'chai';
import type { SpecV2 } from '../../../../src/api/v2/runbook.js';
import { decideGate, EngineHarness, runbookOf, spec } from '../../../support/engine-harness.js';

const withSpec = (h: EngineHarness, change: (spec: SpecV2) => SpecV2) => {
  h.runbook = {
    ...h.runbook,
    spec: change(h.runbook.spec),
    metadata: { ...h.runbook.metadata, generation: h.runbook.metadata.generation + 1 },
  };
};

describe('cancel: spec.status Cancelled', () => {
  const twoStages = () =>
    new EngineHarness(runbookOf(spec({ stages: [{ name: 'a' }, { name: 'b', dependsOn: ['a'] }] })));

  it('deletes the running Jobs, skips what has not run, keeps outputs, and ends Cancelled with an Event', () => {
    const h = twoStages();
    h.step();
    h.succeed('a', { summary: 'kept' });
    h.step();
    const execution = h.runbook.status?.execution;
    const running = h.activeFor('b').name;
    withSpec(h, (current) => ({ ...current, status: 'Cancelled' }));
    const decision = h.step();
    expect(decision.delete).to.deep.equal([{ name: running, reason: 'RunStopped' }]);
    expect(h.phase).to.equal('Cancelled');
    expect(h.runbook.status?.execution, 'the cancelled run, not a new one').to.equal(execution);
    expect(h.runbook.status?.observedGeneration).to.equal(2);
    expect(h.condition('Cancelled')).to.include({ status: 'True', reason: 'RunCancelled' });
    expect(h.stage('a')).to.include({ phase: 'Succeeded' });
    expect(h.stage('a').outputs).to.deep.equal({ summary: 'kept' });
    expect(h.stage('b')).to.include({ phase: 'Failed', reason: 'Aborted' });
    expect(decision.events.map((event) => event.reason)).to.deep.equal(['RunCancelled']);
    expect(h.step().events, 'told once').to.deep.equal([]);
  });

  it('deletes the Job the last reconcile created though the cache has not seen it yet', () => {
    const h = twoStages();
    h.step();
    h.succeed('a');
    h.step();
    const created = h.activeFor('b').name;
    h.jobs = h.jobs.filter((job) => job.name !== created);
    withSpec(h, (current) => ({ ...current, status: 'Cancelled' }));
    const decision = h.step();
    expect(decision.delete).to.deep.equal([{ name: created, reason: 'RunStopped' }]);
    expect(h.stage('b')).to.include({ phase: 'Failed', reason: 'Aborted' });
  });

  it('neither creates nor deletes the Job of a stage started and stopped in one reconcile', () => {
    const h = new EngineHarness(
      runbookOf(spec({ stages: [{ name: 'a' }, { name: 'audit', runbook: { name: 'gone' } }] })),
    );
    const decision = h.step();
    expect(h.stage('audit')).to.include({ phase: 'Failed', reason: 'ChildRunbookNotFound' });
    expect(h.stage('a')).to.include({ phase: 'Failed', reason: 'Aborted' });
    expect(h.phase).to.equal('Failed');
    expect(decision.create, 'a stopped stage runs nothing').to.deep.equal([]);
    expect(decision.delete, 'nothing was created to delete').to.deep.equal([]);
  });

  it('starts a fresh run when spec.status is removed', () => {
    const h = twoStages();
    h.step();
    withSpec(h, (current) => ({ ...current, status: 'Cancelled' }));
    h.step();
    withSpec(h, (current) => {
      const { status, ...rest } = current;
      expect(status).to.equal('Cancelled');
      return rest;
    });
    const decision = h.step();
    expect(h.phase).to.equal('Running');
    expect(h.runbook.status?.execution).to.equal('g3');
    expect(decision.create.map((plan) => [plan.stage, plan.attempt])).to.deep.equal([['a', 1]]);
  });

  it('never starts a runbook created cancelled', () => {
    const h = new EngineHarness(runbookOf(spec({ status: 'Cancelled', stages: [{ name: 'a' }] })));
    expect(h.step().create).to.deep.equal([]);
    expect(h.phase).to.equal('Cancelled');
    expect(h.stage('a')).to.include({ phase: 'Skipped' });
  });
});

describe('status reads true', () => {
  it('a stage stopped while waiting for a retry keeps its failure and says what stopped it', () => {
    const h = new EngineHarness(
      runbookOf(
        spec({
          execution: { mode: 'hybrid', retries: 3 },
          workflows: {
            fallback: {
              trigger: { conditions: ['API_ERROR'], threshold: 2 },
              steps: [{ name: 'cheap', agent: 'b' }],
            },
          },
          stages: [{ name: 'a' }, { name: 'b' }],
        }),
      ),
    );
    h.step();
    h.fail('b', { error: { class: 'API_ERROR' } });
    h.step();
    h.fail('a', { error: { class: 'API_ERROR', message: 'upstream 503' } });
    h.step();
    expect(h.runbook.status?.workflow?.active).to.equal('fallback');
    const stopped = h.stage('a');
    expect(stopped).to.include({
      phase: 'Failed',
      reason: 'AgentFailed',
      lastError: 'API_ERROR',
      attempt: 1,
    });
    expect(stopped.message)
      .to.contain('attempt 1 failed with API_ERROR: upstream 503')
      .and.contain('not retried because the fallback workflow took over');
  });

  it('records the run’s transitions as Events, and a routine stage start or success in status only', () => {
    const h = new EngineHarness(runbookOf(spec({ stages: [{ name: 'a' }] })));
    expect(h.step().events.map((event) => event.reason)).to.deep.equal(['RunStarted']);
    h.succeed('a');
    const finished = h.step();
    expect(finished.events.map((event) => event.reason)).to.deep.equal(['RunSucceeded']);
    expect(finished.status.stages?.[0]).to.include({ name: 'a', phase: 'Succeeded' });
  });

  it('prints money with two to six decimals in status, conditions and Events', () => {
    const h = new EngineHarness(
      runbookOf(
        spec({
          execution: { mode: 'pipeline' },
          budgets: { cost: { maxUSD: '1', alertThreshold: '0.5' } },
          stages: [{ name: 'a' }, { name: 'b' }, { name: 'c' }],
        }),
      ),
    );
    h.step();
    h.succeed('a', {}, { tokens: 1, costUSD: '0.6' });
    const alert = h.step();
    h.succeed('b', {}, { tokens: 1, costUSD: '0.4' });
    const ended = h.step();
    expect(h.phase).to.equal('BudgetExceeded');
    const texts = [
      JSON.stringify(h.runbook.status),
      ...[...alert.events, ...ended.events].map((event) => event.message),
    ].join('\n');
    const amounts = [...texts.matchAll(/\$(\d+(?:\.\d+)?)/g)].map((match) => match[1]);
    expect(amounts).to.include.members(['0.60', '0.50', '1.00']);
    for (const amount of amounts) expect(amount).to.match(/^\d+\.\d{2,6}$/);
    expect(h.stage('b').grant).to.deep.equal({ costUSD: '0.40' });
    expect(h.runbook.status?.usage?.costUSD).to.equal('1.00');
  });

  it('counts an approval only for the generation it was made for', () => {
    const h = new EngineHarness(
      runbookOf(spec({ quality: { gates: [{ name: 'review', required: true }] }, stages: [{ name: 'a' }] })),
    );
    h.step();
    decideGate(h, 'review', 'Approved');
    withSpec(h, (current) => ({ ...current, description: 'changed after the approval' }));
    expect(h.step().create).to.deep.equal([]);
    expect(h.phase).to.equal('WaitingForApproval');
    expect(h.runbook.status?.gates?.[0]).to.include({ phase: 'Pending', approved: 0 });
    decideGate(h, 'review', 'Approved', { user: 'bob' });
    expect(h.step().create).to.have.length(1);
    expect(h.runbook.status?.gates?.[0]).to.include({ decidedBy: 'bob', generation: 2 });
  });

  it('believes no gate row in the status without a decision behind it', () => {
    const h = new EngineHarness(
      runbookOf(spec({ quality: { gates: [{ name: 'review', required: true }] }, stages: [{ name: 'a' }] })),
    );
    h.step();
    const forged = { name: 'review', phase: 'Approved' as const, decidedBy: 'mallory', generation: 1 };
    h.runbook = { ...h.runbook, status: { ...h.runbook.status, gates: [forged] } };
    expect(h.step().create).to.deep.equal([]);
    expect(h.phase).to.equal('WaitingForApproval');
    expect(h.runbook.status?.gates?.[0]).to.include({ phase: 'Pending' });
  });
});
