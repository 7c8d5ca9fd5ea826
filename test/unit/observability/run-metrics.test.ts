import { expect } from 'chai';
import { OperatorMetrics } from '../../../src/observability/metrics.js';
import type { RunbookRecord } from '../../../src/observability/run-metrics.js';
import { EngineHarness, runbookOf, spec } from '../../support/engine-harness.js';
import { MemoryResults } from '../../support/memory-results.js';

/** The value of one sample line of the exposition text, or undefined when there is none. */
function sample(text: string, line: string): number | undefined {
  const found = text.split('\n').find((each) => each.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
}

/** Drives a harness run and tells the metrics of every status it writes, as the controller does. */
function drive(metrics: OperatorMetrics, h: EngineHarness, record: () => RunbookRecord) {
  return () => {
    const before = h.runbook.status;
    h.step();
    metrics.statusWritten(record(), before, h.runbook.status ?? {});
  };
}

describe('product metrics', () => {
  const monitored = spec({
    version: '2.1.0',
    environment: 'staging',
    environments: { staging: {} },
    execution: { mode: 'pipeline', retries: 1 },
    budgets: { tokens: { total: 100 }, cost: { maxUSD: '1.00' } },
    monitoring: {
      metrics: [
        {
          name: 'execution_duration',
          type: 'histogram',
          labels: ['version', 'environment'],
          buckets: [1, 10],
        },
        { name: 'stage_success_rate', type: 'gauge', labels: ['stage_name'] },
        { name: 'resource_utilization', type: 'counter', labels: ['resource_type'] },
      ],
    },
    stages: [{ name: 'a' }, { name: 'b' }],
  });

  it('moves counters and histograms by what happened, reads gauges from the cache, and forgets a deleted runbook', async () => {
    const metrics = new OperatorMetrics();
    const h = new EngineHarness(runbookOf(monitored));
    const record = (): RunbookRecord => ({ ...h.runbook, metadata: { ...h.runbook.metadata } });
    metrics.runView = { runbooks: () => [record()], breakers: () => [{ agent: 'writer', state: 'open' }] };
    const step = drive(metrics, h, record);
    step();
    let text = await metrics.registry.metrics();
    expect(sample(text, 'agentrunbook_runs{namespace="ns",phase="Running"}')).to.equal(1);
    expect(
      sample(
        text,
        'agentrunbook_budget_utilization_ratio{namespace="ns",runbook_name="rb",resource="tokens"}',
      ),
    ).to.equal(0);
    expect(sample(text, 'agentrunbook_circuit_breaker_state{agent="writer",state="open"}')).to.equal(1);
    expect(sample(text, 'agentrunbook_circuit_breaker_state{agent="writer",state="closed"}')).to.equal(0);

    h.fail('a', { error: { class: 'RATE_LIMIT' }, usage: { tokens: 30, costUSD: '0.25' } });
    step();
    h.now = new Date(h.now.getTime() + 5000);
    step();
    h.succeed('a', {}, { tokens: 20, costUSD: '0.25' });
    step();
    text = await metrics.registry.metrics();
    expect(
      sample(text, 'agentrunbook_stage_attempts_total{result="failed",error_class="RATE_LIMIT"}'),
    ).to.equal(1);
    expect(sample(text, 'agentrunbook_stage_attempts_total{result="succeeded",error_class=""}')).to.equal(1);
    expect(sample(text, 'agentrunbook_tokens_total{namespace="ns"}')).to.equal(50);
    expect(sample(text, 'agentrunbook_cost_dollars_total{namespace="ns"}')).to.equal(0.5);
    expect(
      sample(text, 'agentrunbook_budget_utilization_ratio{namespace="ns",runbook_name="rb",resource="cost"}'),
    ).to.equal(0.5);
    expect(
      sample(
        text,
        'agentrunbook_runbook_stage_success_rate{namespace="ns",runbook_name="rb",stage_name="a"}',
      ),
    ).to.equal(0.5);
    expect(
      sample(
        text,
        'agentrunbook_runbook_resource_utilization{namespace="ns",runbook_name="rb",resource_type="tokens"}',
      ),
    ).to.equal(50);
    expect(
      sample(text, 'agentrunbook_stage_duration_seconds_count{workflow="main",phase="Succeeded"}'),
    ).to.equal(1);

    h.succeed('b');
    step();
    expect(h.phase).to.equal('Succeeded');
    text = await metrics.registry.metrics();
    expect(sample(text, 'agentrunbook_runs_finished_total{namespace="ns",phase="Succeeded"}')).to.equal(1);
    expect(sample(text, 'agentrunbook_run_duration_seconds_count{phase="Succeeded"}')).to.equal(1);
    const identity = 'namespace="ns",runbook_name="rb",version="2.1.0",environment="staging"';
    expect(sample(text, `agentrunbook_execution_duration_seconds_count{${identity}}`)).to.equal(1);
    expect(sample(text, `agentrunbook_runbook_execution_duration_bucket{${identity},le="10"}`)).to.equal(1);
    expect(sample(text, `agentrunbook_runbook_execution_duration_bucket{${identity},le="1"}`)).to.equal(0);
    expect(sample(text, `agentrunbook_runbook_execution_duration_count{${identity}}`)).to.equal(1);
    expect(
      sample(text, 'agentrunbook_budget_utilization_ratio{namespace="ns",runbook_name="rb",resource="cost"}'),
      'only running runs',
    ).to.equal(undefined);

    step();
    text = await metrics.registry.metrics();
    expect(
      sample(text, 'agentrunbook_runs_finished_total{namespace="ns",phase="Succeeded"}'),
      'a run finishes once',
    ).to.equal(1);

    metrics.runView = { runbooks: () => [], breakers: () => [] };
    metrics.forgetRunbook('uid-1');
    text = await metrics.registry.metrics();
    expect(text).to.not.contain('runbook_name="rb"');
    expect(
      sample(text, 'agentrunbook_runs_finished_total{namespace="ns",phase="Succeeded"}'),
      'aggregates stay',
    ).to.equal(1);
  });

  it('exports series for at most RUNBOOK_SERIES_LIMIT runbooks and counts the rest', async () => {
    const metrics = new OperatorMetrics();
    const many: RunbookRecord[] = Array.from({ length: 1005 }, (_, index) => ({
      metadata: { name: `rb-${index}`, namespace: 'flood', uid: `u-${index}` },
      spec: monitored,
      status: { phase: 'Running', execution: '1', usage: { tokens: 1 }, stages: [] },
    }));
    metrics.runView = { runbooks: () => many, breakers: () => [] };
    const text = await metrics.registry.metrics();
    const series = text
      .split('\n')
      .filter(
        (line) =>
          line.startsWith('agentrunbook_budget_utilization_ratio{') && line.includes('resource="tokens"'),
      );
    expect(series).to.have.length(1000);
    expect(sample(text, 'agentrunbook_runbooks_over_series_limit')).to.equal(5);
    expect(sample(text, 'agentrunbook_runs{namespace="flood",phase="Running"}')).to.equal(1005);
  });

  it('exports at most 10,000 series of a declared metric, however many stages and runbooks declare it', async () => {
    const metrics = new OperatorMetrics();
    const stages = Array.from({ length: 256 }, (_, index) => ({ name: `s${index}` }));
    const perStage = spec({
      monitoring: { metrics: [{ name: 'stage_success_rate', type: 'gauge', labels: ['stage_name'] }] },
      stages,
    });
    const many: RunbookRecord[] = Array.from({ length: 50 }, (_, index) => ({
      metadata: { name: `rb-${index}`, namespace: 'wide', uid: `w-${index}` },
      spec: perStage,
      status: {
        phase: 'Running',
        execution: '1',
        metrics: { retryCount: 0, fallbackTriggered: false, tokensUsed: 0, costAccrued: '0.00' },
        stages: stages.map((stage) => ({ name: stage.name, phase: 'Succeeded' as const, attempt: 1 })),
      },
    }));
    metrics.runView = { runbooks: () => many, breakers: () => [] };
    const text = await metrics.registry.metrics();
    const series = text
      .split('\n')
      .filter((line) => line.startsWith('agentrunbook_runbook_stage_success_rate{'));
    expect(series).to.have.length(10_000);
    expect(
      sample(text, 'agentrunbook_declared_series_dropped{metric="agentrunbook_runbook_stage_success_rate"}'),
    ).to.equal(50 * 256 - 10_000);
  });

  it('counts cache hits and misses by namespace, and what the hits saved', async () => {
    const metrics = new OperatorMetrics();
    const results = new MemoryResults();
    const cached = spec({ stages: [{ name: 'a', cache: {} }], execution: { mode: 'pipeline' } });
    const run = (name: string) => {
      const h = new EngineHarness(runbookOf(cached));
      h.results = results;
      h.runbook = { ...h.runbook, metadata: { ...h.runbook.metadata, name, uid: name } };
      const step = drive(metrics, h, () => ({ ...h.runbook, metadata: { ...h.runbook.metadata } }));
      return { h, step };
    };
    const first = run('first');
    first.step();
    first.h.succeed('a', {}, { tokens: 1200, costUSD: '0.12' });
    first.step();
    first.step();
    const second = run('second');
    second.step();
    second.step();
    const text = await metrics.registry.metrics();
    expect(sample(text, 'agentrunbook_cache_misses_total{namespace="ns"}')).to.equal(1);
    expect(sample(text, 'agentrunbook_cache_hits_total{namespace="ns"}')).to.equal(1);
    expect(sample(text, 'agentrunbook_tokens_saved_total{namespace="ns"}')).to.equal(1200);
    expect(sample(text, 'agentrunbook_cost_saved_dollars_total{namespace="ns"}')).to.equal(0.12);
  });

  it('counts each attempt of a forEach item once, a retried failure included, and tokens as they are spent', async () => {
    const metrics = new OperatorMetrics();
    const h = new EngineHarness(
      runbookOf(
        spec({
          execution: { mode: 'hybrid', parallelism: 5, retries: 1 },
          stages: [{ name: 'each', forEach: ['a', 'b'], config: { inputs: { x: '${item}' } } }],
        }),
      ),
    );
    const record = (): RunbookRecord => ({ ...h.runbook, metadata: { ...h.runbook.metadata } });
    const step = drive(metrics, h, record);
    step();
    h.fail('each[0]', { error: { class: 'RATE_LIMIT' } });
    step();
    h.now = new Date(h.now.getTime() + 60_000);
    step();
    h.succeed('each[0]');
    h.succeed('each[1]');
    step();
    expect(h.stage('each').phase).to.equal('Succeeded');
    const text = await metrics.registry.metrics();
    expect(
      sample(text, 'agentrunbook_stage_attempts_total{result="failed",error_class="RATE_LIMIT"}'),
    ).to.equal(1);
    expect(sample(text, 'agentrunbook_stage_attempts_total{result="succeeded",error_class=""}')).to.equal(2);
    expect(sample(text, 'agentrunbook_tokens_total{namespace="ns"}')).to.equal(20);
  });
});
