import { expect } from 'chai';
import {
  compileAlertCondition,
  alertReason,
  withDurationLiterals,
} from '../../../../src/engine/run/alerts.js';
import { EngineHarness, runbookOf, spec } from '../../../support/engine-harness.js';

const MINUTE = 60_000;
const later = (h: EngineHarness, ms: number) => {
  h.now = new Date(h.now.getTime() + ms);
};

describe('status.metrics (the specification’s ExecutionMetrics)', () => {
  it('counts attempts, retries, rates, usage and resources, and durations once finished', () => {
    const h = new EngineHarness(
      runbookOf(
        spec({
          execution: { mode: 'pipeline', retries: 2 },
          stages: [{ name: 'a' }, { name: 'b' }],
        }),
      ),
    );
    h.step();
    expect(h.runbook.status?.metrics).to.deep.equal({
      retryCount: 0,
      fallbackTriggered: false,
      tokensUsed: 0,
      costAccrued: '0.00',
      stages: [
        { name: 'a', attempts: 1 },
        { name: 'b', attempts: 0 },
      ],
    });
    h.fail('a', {
      error: { class: 'API_ERROR' },
      usage: { tokens: 5 },
      resources: { memoryPeakBytes: 300, cpuSeconds: 0.25 },
    });
    h.step();
    later(h, 2000);
    h.step();
    expect(h.stage('a')).to.include({ phase: 'Running', attempt: 2 });
    later(h, MINUTE);
    h.finish(
      'a',
      'succeeded',
      JSON.stringify({
        usage: { tokens: 7, costUSD: '0.5' },
        resources: { memoryPeakBytes: 200, cpuSeconds: 1.5 },
      }),
    );
    h.step();
    h.succeed('b');
    h.step();
    expect(h.phase).to.equal('Succeeded');
    const metrics = h.runbook.status?.metrics;
    expect(metrics).to.include({
      retryCount: 1,
      successRate: 0.667,
      errorRate: 0.333,
      fallbackTriggered: false,
      tokensUsed: 22,
      costAccrued: '0.51',
      memoryPeakBytes: 300,
      cpuSeconds: 1.75,
    });
    expect(metrics?.durationSeconds).to.be.greaterThan(60);
    expect(metrics?.stages?.[0]).to.include({ name: 'a', attempts: 2, successRate: 0.5 });
    expect(metrics?.stages?.[0]?.durationSeconds).to.be.greaterThan(60);
    expect(h.stage('a').resources).to.deep.equal({ memoryPeakBytes: 300, cpuSeconds: 1.75 });
  });

  it('bounds what a hostile report claims for resources, and refuses negative ones', () => {
    const h = new EngineHarness(runbookOf(spec({ stages: [{ name: 'a' }, { name: 'b' }] })));
    h.step();
    h.finish('a', 'succeeded', JSON.stringify({ resources: { memoryPeakBytes: 1e300, cpuSeconds: 1e300 } }));
    h.finish('b', 'succeeded', JSON.stringify({ resources: { cpuSeconds: -1 } }));
    h.step();
    expect(h.stage('a').resources).to.deep.equal({
      memoryPeakBytes: Number.MAX_SAFE_INTEGER,
      cpuSeconds: 1e9,
    });
    expect(h.stage('b')).to.include({ phase: 'Failed', reason: 'TerminationMessageMalformed' });
  });
});

describe('spec.monitoring.alerts', () => {
  const alerted = () =>
    new EngineHarness(
      runbookOf(
        spec({
          budgets: { cost: { maxUSD: '1.00' } },
          monitoring: {
            alerts: [
              { name: 'execution_timeout', condition: 'execution_duration > 20m', severity: 'high' },
              { name: 'budget-exceeded', condition: 'cost_accrued > budget * 0.5', severity: 'critical' },
            ],
          },
          stages: [{ name: 'a' }, { name: 'b', dependsOn: ['a'] }],
        }),
      ),
    );

  it('fires on time alone, looking again every 30 s, and records one Warning Event', () => {
    const h = alerted();
    const first = h.step();
    expect(first.requeueAfterMs).to.equal(30_000);
    expect(h.condition('Alerting')).to.include({ status: 'False', reason: 'NoAlertFiring' });
    later(h, 21 * MINUTE);
    const fired = h.step();
    expect(h.condition('Alerting')).to.include({
      status: 'True',
      reason: 'ExecutionTimeout',
      message: 'firing: execution_timeout (high)',
    });
    expect(fired.events.filter((e) => e.reason === 'AlertFiring')).to.deep.equal([
      {
        type: 'Warning',
        reason: 'AlertFiring',
        message: 'alert execution_timeout (high) fires: execution_duration > 20m',
      },
    ]);
    const since = h.runbook.status?.alerts?.[0]?.since;
    expect(h.runbook.status?.alerts).to.deep.equal([
      { name: 'execution_timeout', severity: 'high', state: 'Firing', since },
    ]);
    expect(
      h.step().events.filter((e) => e.reason === 'AlertFiring'),
      'once, not on every reconcile',
    ).to.deep.equal([]);
  });

  it('names the most severe firing alert in the reason and resolves with a Normal Event', () => {
    const h = alerted();
    h.step();
    h.succeed('a', {}, { tokens: 1, costUSD: '0.60' });
    h.step();
    expect(h.condition('Alerting')).to.include({ status: 'True', reason: 'BudgetExceeded' });
    later(h, 21 * MINUTE);
    h.step();
    expect(h.condition('Alerting')?.message).to.equal(
      'firing: budget-exceeded (critical), execution_timeout (high)',
    );
    // A new run (a spec change) starts with nothing spent: the cost alert resolves.
    h.runbook = { ...h.runbook, metadata: { ...h.runbook.metadata, generation: 2 } };
    const rerun = h.step();
    expect(h.runbook.status?.alerts ?? []).to.deep.equal([]);
    expect(rerun.events.map((e) => e.reason)).to.not.include('AlertResolved');
  });

  it('resolves within a run when the variable falls back', () => {
    const h = new EngineHarness(
      runbookOf(
        spec({
          execution: { mode: 'pipeline', retries: 1 },
          monitoring: { alerts: [{ name: 'flaky', condition: 'error_rate > 0.4', severity: 'medium' }] },
          stages: [{ name: 'a' }, { name: 'b' }],
        }),
      ),
    );
    h.step();
    h.fail('a', { error: { class: 'API_ERROR' } });
    const failed = h.step();
    expect(failed.events.map((e) => e.reason)).to.include('AlertFiring');
    later(h, 2000);
    h.step();
    h.succeed('a');
    h.step();
    h.succeed('b');
    const resolved = h.step();
    expect(h.runbook.status?.metrics?.errorRate).to.equal(0.333);
    expect(resolved.events.filter((e) => e.reason === 'AlertResolved')).to.deep.equal([
      { type: 'Normal', reason: 'AlertResolved', message: 'alert flaky (medium) resolved' },
    ]);
    expect(h.condition('Alerting')).to.include({ status: 'False' });
    expect(resolved.requeueAfterMs, 'a finished run is not looked at for its alerts').to.not.equal(30_000);
  });

  it('shows a condition that fails at run time as Error, not firing', () => {
    const h = new EngineHarness(
      runbookOf(
        spec({
          monitoring: {
            alerts: [{ name: 'div', condition: 'retry_count / retry_count > 1', severity: 'low' }],
          },
          stages: [{ name: 'a' }],
        }),
      ),
    );
    const decision = h.step();
    expect(h.runbook.status?.alerts?.[0]).to.include({ name: 'div', state: 'Error' });
    expect(h.runbook.status?.alerts?.[0]?.message).to.match(/^condition failed: .*division by zero/i);
    expect(decision.events.map((e) => e.reason)).to.include('AlertFailed');
    expect(h.condition('Alerting')).to.include({ status: 'False' });
  });

  it('reads the specification’s bare durations and leaves strings alone', () => {
    expect(withDurationLiterals("execution_duration > 1h30m && phase != '20m'")).to.equal(
      'execution_duration > duration("1h30m") && phase != \'20m\'',
    );
    expect(withDurationLiterals('cost_accrued > 1.5e3')).to.equal('cost_accrued > 1.5e3');
    expect(alertReason('high_error-rate')).to.equal('HighErrorRate');
    expect(alertReason('5xx')).to.equal('Alert5xx');
  });

  it('refuses conditions that do not type-check, read unknown variables or are not bool', () => {
    const problem = (condition: string) => {
      const compiled = compileAlertCondition(condition);
      return 'problem' in compiled ? compiled.problem : undefined;
    };
    expect(problem('execution_duration > 20')).to.match(/no such overload/);
    expect(problem('secrets > 1')).to.match(/Unknown variable: secrets/);
    expect(problem('cost_accrued')).to.equal('is of type double, not bool');
    expect(problem('cost_accrued > budget * 1.2')).to.equal(undefined);
  });

  it('refuses a condition that would range over lists nested deep enough to freeze the operator', () => {
    const list = `[${Array.from({ length: 200 }, (_, i) => i).join(',')}]`;
    const nested = `${list}.all(a, ${list}.all(b, ${list}.all(c, a + b + c >= 0)))`;
    const compiled = compileAlertCondition(nested);
    expect('problem' in compiled && compiled.problem).to.match(
      /^has an estimated cost of \d+, over the limit of 100000/,
    );
    expect('problem' in compileAlertCondition(`${list}.exists(a, a == retry_count)`)).to.equal(false);
  });
});
