import { expect } from 'chai';
import { Watch } from '@kubernetes/client-node';
import type { AgentCatalog } from '../../src/api/catalog.js';
import { executionId } from '../../src/engine/model/naming.js';
import { eventually } from '../support/eventually.js';
import { RunbookEnv, runbook } from '../support/runbook-env.js';
import { succeed } from '../support/scripted-agents.js';

const CATALOG: AgentCatalog = {
  agents: ['normalize', 'research', 'market', 'synthesis', 'a', 'b', 'c', 'd'].map((name) => ({
    name,
    image: `registry.example/agents/${name}:1.0.0`,
  })),
};

describe('the reconciler on a real control plane', function () {
  this.timeout(120_000);
  const env = new RunbookEnv('reconcile', CATALOG);
  const k = (...args: string[]) => env.k(...args);
  const apply = (object: unknown) => env.apply(object);
  const waitPhase = (name: string, phase: string) => env.waitPhase(name, phase);
  const status = (name: string) => env.status(name);
  const jobsOf = (name: string) => env.jobsOf(name);

  before(() => env.start());
  after(() => env.stop());

  beforeEach(() => {
    env.script = () => succeed();
  });

  it('pipeline mode: runs normalize then research, passing outputs, and reports usage', async () => {
    env.script = (call) =>
      call.stage === 'normalize'
        ? succeed(
            { normalized_idea: { summary: `normalized ${String(call.inputs.title)}` } },
            { tokens: 1200, costUSD: '0.12' },
          )
        : succeed(
            { report: `research on ${JSON.stringify(call.inputs.idea)}` },
            { tokens: 800, costUSD: '0.08' },
          );
    await apply(
      runbook('pipeline', 'pipeline', [
        {
          name: 'normalize',
          config: { inputs: { title: '${context.title|slug}' }, outputs: { normalized_idea: 'object' } },
        },
        {
          name: 'research',
          config: { inputs: { idea: '${normalize.outputs.normalized_idea}' }, outputs: { report: 'string' } },
        },
      ]),
    );
    await waitPhase('pipeline', 'Succeeded');
    const research = env.calls.find((call) => call.namespace === env.namespace && call.stage === 'research');
    expect(research?.inputs).to.deep.equal({ idea: { summary: 'normalized ai-task-manager' } });
    const final = await status('pipeline');
    expect(final).to.include({ phase: 'Succeeded', progress: '2/2' });
    expect(final.usage).to.deep.equal({ tokens: 2000, costUSD: '0.20' });
    expect(final.stages[1]?.outputs).to.deep.equal({
      report: 'research on {"summary":"normalized ai-task-manager"}',
    });
    const listed = await k('get', 'arb', 'pipeline', '--no-headers');
    expect(listed.stdout.split(/\s+/).slice(0, 5)).to.deep.equal([
      'pipeline',
      'Succeeded',
      '2/2',
      '2000',
      '0.20',
    ]);
  });

  it('parallel mode: never runs more Jobs of one runbook at a time than execution.parallelism', async () => {
    env.script = () => 'hold';
    env.node.maxRunning = 0;
    const stages = ['a', 'b', 'c', 'd'].map((name) => ({ name }));
    await apply(runbook('capped', 'parallel', stages, { execution: { mode: 'parallel', parallelism: 2 } }));
    const held = () => env.node.heldPods().filter((pod) => pod.startsWith(`${env.namespace}/capped-`));
    for (let remaining = 4; remaining > 0; remaining -= 1) {
      await env.node.waitFor(
        () => held().length === Math.min(2, remaining),
        30_000,
        `${Math.min(2, remaining)} held pods`,
      );
      await env.node.finish(held()[0] ?? '', succeed());
    }
    await waitPhase('capped', 'Succeeded');
    expect(env.node.maxRunning).to.equal(2);
    expect(await jobsOf('capped')).to.have.length(4);
  });

  it('hybrid mode: fans out after the root stage and fans in at the end', async () => {
    const order: string[] = [];
    env.script = (call) => {
      order.push(call.stage);
      return succeed({ value: call.stage });
    };
    await apply(
      runbook('fan', 'hybrid', [
        { name: 'normalize' },
        { name: 'research', dependsOn: ['normalize'] },
        { name: 'market', dependsOn: ['normalize'] },
        {
          name: 'synthesis',
          dependsOn: ['research', 'market'],
          config: { inputs: { r: '${research.outputs.value}', m: '${market.outputs.value}' } },
        },
      ]),
    );
    await waitPhase('fan', 'Succeeded');
    const fan = order.filter((stage) => ['normalize', 'research', 'market', 'synthesis'].includes(stage));
    expect(fan[0]).to.equal('normalize');
    expect(fan.slice(1, 3).sort()).to.deep.equal(['market', 'research']);
    expect(fan[3]).to.equal('synthesis');
    const synthesis = env.calls
      .filter((call) => call.namespace === env.namespace && call.stage === 'synthesis')
      .at(-1);
    expect(synthesis?.inputs).to.deep.equal({ r: 'research', m: 'market' });
  });

  it('survives an operator restart mid-run with exactly one Job per stage attempt', async () => {
    env.script = (call) => (call.stage === 'b' ? 'hold' : succeed());
    await apply(runbook('restart', 'pipeline', [{ name: 'a' }, { name: 'b' }, { name: 'c' }]));
    const held = () => env.node.heldPods().filter((pod) => pod.startsWith(`${env.namespace}/restart-`));
    await env.node.waitFor(() => held().length === 1, 30_000, 'stage b running');
    await env.stopOperator();
    await env.node.finish(held()[0] ?? '', succeed());
    await env.startOperator();
    await waitPhase('restart', 'Succeeded');
    const jobs = await jobsOf('restart');
    expect(jobs.map((job) => job.metadata.labels['i2s.studio/stage']).sort()).to.deep.equal(['a', 'b', 'c']);
  });

  it('a Job deleted by hand while it runs is created again under the same name', async () => {
    env.script = () => 'hold';
    await apply(runbook('recreated', 'pipeline', [{ name: 'a' }]));
    await env.node.waitFor(() => env.held('recreated').length === 1, 30_000, 'stage a running');
    const [job] = await jobsOf('recreated');
    const name = job?.metadata.name ?? '';
    const uid = (await k('get', 'job', name, '-o', 'jsonpath={.metadata.uid}')).stdout;
    expect((await k('delete', 'job', name, '--wait=false')).code).to.equal(0);
    const back = await k('wait', `--for=jsonpath={.metadata.name}=${name}`, '--timeout=30s', `job/${name}`);
    expect(back.code, back.stderr).to.equal(0);
    await env.node.waitFor(() => env.held('recreated').length === 1, 30_000, 'the new pod running');
    env.script = () => succeed();
    for (const pod of env.held('recreated')) await env.node.finish(pod, succeed());
    await waitPhase('recreated', 'Succeeded');
    expect((await k('get', 'job', name, '-o', 'jsonpath={.metadata.uid}')).stdout).to.not.equal(uid);
  });

  it('a spec change mid-run deletes the old run’s Jobs (SpecChanged) and runs the new generation', async () => {
    env.script = () => 'hold';
    await apply(runbook('change', 'pipeline', [{ name: 'a' }]));
    const held = () => env.node.heldPods().filter((pod) => pod.startsWith(`${env.namespace}/change-`));
    await env.node.waitFor(() => held().length === 1, 30_000, 'generation 1 running');
    const [oldJob] = await jobsOf('change');
    env.script = () => succeed();
    const patched = await k(
      'patch',
      'arb',
      'change',
      '--type=merge',
      '-p',
      '{"spec":{"description":"second take"}}',
    );
    expect(patched.code, patched.stderr).to.equal(0);
    await waitPhase('change', 'Succeeded');
    const gone = await k('wait', '--for=delete', '--timeout=30s', `job/${oldJob?.metadata.name ?? ''}`);
    expect(gone.code, gone.stderr).to.equal(0);
    const jobs = await jobsOf('change');
    expect(jobs.map((job) => job.metadata.labels['i2s.studio/generation'])).to.deep.equal(['2']);
    expect(await status('change')).to.include({ observedGeneration: 2 });
    const events = await k(
      'get',
      'events',
      '--field-selector',
      'involvedObject.name=change',
      '-o',
      'jsonpath={.items[*].reason}',
    );
    expect(events.stdout.split(' ')).to.include('SpecChanged');
  });

  it('a new i2s.studio/rerun annotation runs a finished runbook again', async () => {
    await apply(runbook('again', 'pipeline', [{ name: 'a' }]));
    await waitPhase('again', 'Succeeded');
    expect((await k('annotate', 'arb', 'again', 'i2s.studio/rerun=1')).code).to.equal(0);
    const rerun = executionId(1, '1');
    const started = await k(
      'wait',
      `--for=jsonpath={.status.execution}=${rerun}`,
      '--timeout=30s',
      'arb/again',
    );
    expect(started.code, started.stderr).to.equal(0);
    await waitPhase('again', 'Succeeded');
    const jobs = await jobsOf('again');
    expect(jobs.map((job) => job.metadata.labels['i2s.studio/execution']).sort()).to.deep.equal(
      ['g1', rerun].sort(),
    );
  });

  it('spec.history.limit removes the Jobs of older finished runs (one HistoryLimit Event) and keeps the status', async () => {
    await apply(runbook('pruned', 'pipeline', [{ name: 'a' }], { history: { limit: 1 } }));
    await waitPhase('pruned', 'Succeeded');
    expect((await k('annotate', 'arb', 'pruned', 'i2s.studio/rerun=1')).code).to.equal(0);
    const rerun = executionId(1, '1');
    const started = await k(
      'wait',
      `--for=jsonpath={.status.execution}=${rerun}`,
      '--timeout=30s',
      'arb/pruned',
    );
    expect(started.code, started.stderr).to.equal(0);
    await waitPhase('pruned', 'Succeeded');
    await env.waitJobsGone('i2s.studio/runbook=pruned,i2s.studio/execution=g1');
    const kept = await jobsOf('pruned');
    expect(kept.map((job) => job.metadata.labels['i2s.studio/execution'])).to.deep.equal([rerun]);
    expect((await status('pruned')).stages[0]).to.include({ phase: 'Succeeded' });
    expect(await env.eventCount('pruned', 'HistoryLimit')).to.equal(1);
  });

  it('serves controller-runtime’s metrics at /metrics, moved by the reconciles that happened', async () => {
    await apply(runbook('measured', 'pipeline', [{ name: 'a' }, { name: 'b' }]));
    await waitPhase('measured', 'Succeeded');
    const port = env.operator?.metricsPort;
    const scrape = async () => (await fetch(`http://127.0.0.1:${String(port)}/metrics`)).text();
    const value = (text: string, series: string) => {
      const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    };
    const text = await scrape();
    expect(
      value(text, 'controller_runtime_reconcile_total{controller="agentrunbook",result="success"}'),
    ).to.be.greaterThan(1);
    expect(
      value(text, 'controller_runtime_reconcile_time_seconds_count{controller="agentrunbook"}'),
    ).to.be.greaterThan(1);
    expect(value(text, 'controller_runtime_max_concurrent_reconciles{controller="agentrunbook"}')).to.equal(
      4,
    );
    expect(
      value(text, 'workqueue_adds_total{name="agentrunbook",controller="agentrunbook"}'),
    ).to.be.greaterThan(1);
    expect(value(text, 'workqueue_depth{name="agentrunbook",controller="agentrunbook"}')).to.be.at.least(0);
    const created = text
      .split('\n')
      .find((line) => line.startsWith('rest_client_requests_total{method="POST",code="201"'));
    expect(created, 'Job and Event creations counted').to.not.equal(undefined);
    expect(value(text, 'process_resident_memory_bytes')).to.be.greaterThan(0);
    // A later scrape sees the counters only go up.
    await apply(runbook('measured-2', 'pipeline', [{ name: 'a' }]));
    await waitPhase('measured-2', 'Succeeded');
    const series = 'controller_runtime_reconcile_total{controller="agentrunbook",result="success"}';
    expect(value(await scrape(), series)).to.be.greaterThan(value(text, series) ?? Infinity);
  });

  it('moves the product metrics by what a run did, exports spec.monitoring.metrics, and drops them with the runbook', async () => {
    const port = env.operator?.metricsPort;
    const scrape = async () => (await fetch(`http://127.0.0.1:${String(port)}/metrics`)).text();
    const value = (text: string, series: string) => {
      const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
      return line === undefined ? 0 : Number(line.slice(series.length + 1));
    };
    const ns = env.namespace;
    const attempts = 'agentrunbook_stage_attempts_total{result="succeeded",error_class=""}';
    const finished = `agentrunbook_runs_finished_total{namespace="${ns}",phase="Succeeded"}`;
    const stageDurations = 'agentrunbook_stage_duration_seconds_count{workflow="main",phase="Succeeded"}';
    const before = await scrape();
    await apply(
      runbook('declared', 'pipeline', [{ name: 'a' }, { name: 'b' }], {
        monitoring: {
          metrics: [
            { name: 'execution_duration', type: 'histogram', labels: ['version'] },
            { name: 'stage_success_rate', type: 'gauge', labels: ['stage_name'] },
            { name: 'tokens_used', type: 'counter' },
          ],
        },
      }),
    );
    await waitPhase('declared', 'Succeeded');
    const identity = `namespace="${ns}",runbook_name="declared"`;
    const after = await eventually(async () => {
      const text = await scrape();
      expect(value(text, finished) - value(before, finished)).to.equal(1);
      return text;
    });
    expect(value(after, attempts) - value(before, attempts)).to.equal(2);
    expect(value(after, stageDurations) - value(before, stageDurations)).to.equal(2);
    expect(
      value(
        after,
        `agentrunbook_execution_duration_seconds_count{${identity},version="1.0.0",environment=""}`,
      ),
    ).to.equal(1);
    expect(
      value(after, `agentrunbook_runbook_execution_duration_count{${identity},version="1.0.0"}`),
    ).to.equal(1);
    expect(value(after, `agentrunbook_runbook_stage_success_rate{${identity},stage_name="b"}`)).to.equal(1);
    expect(
      value(after, `agentrunbook_runbook_tokens_used{${identity}}`),
      'two stages of 100 tokens',
    ).to.equal(200);
    expect(value(after, `agentrunbook_runs{namespace="${ns}",phase="Succeeded"}`)).to.be.at.least(1);
    expect(after).to.contain('agentrunbook_circuit_breaker_state{agent="a",state="closed"} 1');
    expect(await k('delete', 'arb', 'declared')).to.include({ code: 0 });
    await eventually(async () => {
      expect(await scrape()).to.not.contain('runbook_name="declared"');
    });
  });

  it('fires an alert of spec.monitoring.alerts while its condition holds and resolves it after', async () => {
    await apply(
      runbook('alerted', 'pipeline', [{ name: 'a' }], {
        monitoring: { alerts: [{ name: 'still-running', condition: "phase == 'Running'", severity: 'low' }] },
      }),
    );
    await waitPhase('alerted', 'Succeeded');
    await eventually(async () => {
      expect(await env.eventCount('alerted', 'AlertFiring')).to.equal(1);
      expect(await env.eventCount('alerted', 'AlertResolved')).to.equal(1);
    });
    const final = await status('alerted');
    expect(final.conditions?.find((condition) => condition.type === 'Alerting')).to.include({
      status: 'False',
      reason: 'NoAlertFiring',
    });
    expect(final.metrics).to.include({
      retryCount: 0,
      successRate: 1,
      errorRate: 0,
      fallbackTriggered: false,
    });
  });

  it('writes the status once per stage transition: two writes for a one-stage run', async () => {
    const modified: string[] = [];
    const watch = new Watch(env.plane.adminConfig());
    const aborter = await watch.watch(
      `/apis/i2s.studio/v2/namespaces/${env.namespace}/agentrunbooks`,
      { fieldSelector: 'metadata.name=writes' },
      (type: string, object: { status?: { phase?: string } }) => {
        if (type === 'MODIFIED') modified.push(object.status?.phase ?? '');
      },
      () => undefined,
    );
    try {
      await apply(runbook('writes', 'pipeline', [{ name: 'a' }]));
      await waitPhase('writes', 'Succeeded');
      await env.node.waitFor(() => modified.includes('Succeeded'), 10_000, 'the watch to see Succeeded');
      expect(modified).to.deep.equal(['Running', 'Succeeded']);
    } finally {
      aborter.abort();
    }
  });

  it('deleting a runbook deletes its Jobs through their owner references', async () => {
    env.script = () => 'hold';
    await apply(runbook('doomed', 'pipeline', [{ name: 'a' }]));
    await env.node.waitFor(
      () => env.node.heldPods().some((pod) => pod.startsWith(`${env.namespace}/doomed-`)),
      30_000,
      'doomed running',
    );
    expect(await jobsOf('doomed')).to.have.length(1);
    expect((await k('delete', 'arb', 'doomed')).code).to.equal(0);
    const gone = await k('wait', '--for=delete', '--timeout=60s', 'jobs', '-l', 'i2s.studio/runbook=doomed');
    expect(gone.code, gone.stderr).to.equal(0);
  });

  it('spec.suspend starts no stage until it is cleared', async () => {
    await apply(runbook('paused', 'pipeline', [{ name: 'a' }], { suspend: true }));
    const suspended = await k('wait', '--for=condition=Suspended', '--timeout=30s', 'arb/paused');
    expect(suspended.code, suspended.stderr).to.equal(0);
    expect(await jobsOf('paused')).to.have.length(0);
    expect(
      (await k('patch', 'arb', 'paused', '--type=merge', '-p', '{"spec":{"suspend":false}}')).code,
    ).to.equal(0);
    await waitPhase('paused', 'Succeeded');
  });

  it('bad run-time input ends each runbook with its own reason while the others keep going', async () => {
    env.script = (call) => {
      if (call.stage === 'a' && call.pod.metadata?.name?.startsWith('malformed-'))
        return { phase: 'Succeeded', message: 'not json {' };
      if (call.stage === 'a' && call.pod.metadata?.name?.startsWith('wrongtype-'))
        return succeed({ count: 'three' });
      return succeed({ count: 3 });
    };
    const outputs = { outputs: { count: 'integer' } };
    await apply(runbook('malformed', 'pipeline', [{ name: 'a', config: outputs }]));
    await apply(runbook('wrongtype', 'pipeline', [{ name: 'a', config: outputs }]));
    await apply(
      runbook('unresolved', 'pipeline', [{ name: 'a', config: { inputs: { x: '${context.nothing}' } } }]),
    );
    await apply(runbook('unknown-agent', 'pipeline', [{ name: 'a', agent: 'no-such-agent' }]));
    await apply(runbook('healthy', 'pipeline', [{ name: 'a', config: outputs }, { name: 'b' }]));
    const expectations = {
      malformed: 'TerminationMessageMalformed',
      wrongtype: 'OutputTypeMismatch',
      unresolved: 'UnresolvedReference',
      'unknown-agent': 'AgentNotFound',
    };
    for (const [name, reason] of Object.entries(expectations)) {
      await waitPhase(name, 'Failed');
      const failed = await status(name);
      expect(failed.stages[0], name).to.include({ phase: 'Failed', reason });
    }
    await waitPhase('healthy', 'Succeeded');
  });

  it('tells the story of a run in kubectl describe: its transitions in Events, its stages in status', async () => {
    const described = await k('describe', 'arb', 'pipeline');
    expect(described.code, described.stderr).to.equal(0);
    // In the order they happened: kubectl sorts by time, and one reconcile's Events share a second.
    const order = ['RunStarted', 'RunSucceeded'].map((reason) => described.stdout.indexOf(reason));
    // A routine stage start or success is in status, not an Event of its own (an Event is a write).
    expect(described.stdout).not.to.match(/StageStarted|StageSucceeded/);
    expect(described.stdout).to.match(/Name:\s+normalize[\s\S]*Phase:\s+Succeeded/);
    expect(
      order.every((at) => at >= 0),
      described.stdout,
    ).to.equal(true);
    expect(order, described.stdout).to.deep.equal([...order].sort((a, b) => a - b));
  });
});
