import { expect } from 'chai';
import { EngineHarness, runbookOf, spec } from '../../../support/engine-harness.js';
import { ENV } from '../../../../src/api/agent-contract.js';
import type { SpecV2 } from '../../../../src/api/v2/runbook.js';
import type { JobObservation } from '../../../../src/engine/model/types.js';
import { breakerState } from '../../../../src/engine/stage/circuit-breaker.js';
import { mainEntries } from '../../../../src/engine/spec/workflow-stages.js';

const stage = (name: string, extra: Record<string, unknown> = {}) => ({ name, ...extra });
const catalog = (...names: string[]) => ({ agents: names.map((name) => ({ name, image: `x/${name}` })) });

describe('workflows: main steps', () => {
  it('pulls in, before a step, the pipeline stages its stage depends on that no step runs (issue 25)', () => {
    const pipeline = [
      stage('normalize'),
      stage('enrich', { dependsOn: ['normalize'] }),
      stage('audit'),
      stage('research', { dependsOn: ['enrich', 'audit'] }),
      stage('unrelated'),
    ];
    const entries = (steps: { name: string; agent?: string }[]) =>
      mainEntries(spec({ stages: pipeline, workflows: { main: { steps } } })).map(
        ({ stage: s, step, pulledIn }) => `${s.name}@${step}${pulledIn ? '+' : ''}`,
      );
    // Transitively, dependencies first, each once, stamped with the step that needed it.
    expect(entries([{ name: 'primary', agent: 'research' }])).to.deep.equal([
      'normalize@0+',
      'enrich@0+',
      'audit@0+',
      'primary@0',
    ]);
    // A stage some step runs stays where that step puts it, and is not pulled in twice.
    expect(entries([{ name: 'primary', agent: 'research' }, { name: 'audit' }])).to.deep.equal([
      'normalize@0+',
      'enrich@0+',
      'primary@0',
      'audit@1',
    ]);
  });

  it('runs workflows.main.steps in order, each step running the pipeline stage it names', () => {
    const h = new EngineHarness(
      runbookOf(
        spec({
          execution: { mode: 'parallel' },
          workflows: {
            main: {
              steps: [
                { name: 'first', agent: 'normalize', timeout: '45s' },
                { name: 'second', agent: 'research' },
              ],
            },
          },
          stages: [
            stage('normalize', { config: { outputs: { idea: 'object' } } }),
            stage('research', { config: { inputs: { idea: '${normalize.outputs.idea}' } } }),
          ],
        }),
      ),
      catalog('normalize', 'research'),
    );
    h.step();
    expect(h.last?.create.map((plan) => [plan.stage, plan.agent, plan.activeDeadlineSeconds])).to.deep.equal([
      ['first', 'normalize', 45],
    ]);
    h.succeed('first', { idea: { summary: 's' } });
    h.step();
    expect(h.last?.create.map((plan) => plan.stage)).to.deep.equal(['second']);
    expect(JSON.parse(h.last?.create[0]?.env[ENV.inputs] ?? '')).to.deep.equal({ idea: { summary: 's' } });
    h.succeed('second');
    h.step();
    expect(h.phase).to.equal('Succeeded');
  });
});

describe('workflows: fallback and emergency', () => {
  const workflows = (threshold = 2): SpecV2['workflows'] => ({
    fallback: {
      trigger: { conditions: ['TIMEOUT', 'API_ERROR'], threshold },
      steps: [{ name: 'cached_research', agent: 'librarian', config: { useCache: true } }],
    },
    emergency: {
      trigger: { conditions: ['SECURITY_INCIDENT'] },
      steps: [{ name: 'safe_shutdown', action: 'terminate', notify: ['security_team', 'ops_manager'] }],
    },
  });
  const harness = (extra: Partial<SpecV2> = {}) =>
    new EngineHarness(
      runbookOf(
        spec({
          execution: { mode: 'hybrid', retries: 3 },
          budgets: { tokens: { total: 1000, perAgent: 500, emergency: 500 } },
          agents: {
            pipeline: [],
            core: { librarian: { role: 'knowledge_manager', config: { cacheTTL: '1h' } } },
          },
          workflows: workflows(),
          stages: [stage('research'), stage('other')],
          ...extra,
        } as never),
      ),
      catalog('research', 'other', 'librarian'),
    );

  it('counts trigger failures and, at the threshold, stops the main workflow and runs the fallback steps', () => {
    const h = harness();
    h.step();
    h.fail('research', { error: { class: 'API_ERROR' } });
    h.step();
    expect(h.runbook.status?.workflow).to.include({ active: 'main', fallbackTriggers: 1 });
    h.now = new Date(h.now.getTime() + 1000);
    h.step();
    h.fail('research', { error: { class: 'TIMEOUT' } });
    const decision = h.step();
    expect(h.runbook.status?.workflow).to.include({ active: 'fallback', fallbackTriggers: 2 });
    expect(decision.delete).to.have.length(1);
    expect(h.stage('other')).to.include({ phase: 'Failed', reason: 'StoppedForFallback' });
    expect(decision.create.map((plan) => [plan.stage, plan.agent])).to.deep.equal([
      ['cached_research', 'librarian'],
    ]);
    expect(JSON.parse(decision.create[0]?.env[ENV.parameters] ?? '')).to.deep.equal({
      cacheTTL: '1h',
      useCache: true,
    });
    expect(h.condition('FallbackActive')).to.include({ status: 'True' });
    h.succeed('cached_research');
    h.step();
    expect(h.phase).to.equal('Succeeded');
    expect(h.condition('Degraded')).to.include({ status: 'True', reason: 'CompletedViaFallback' });
    expect(h.condition('Ready')).to.include({ reason: 'CompletedViaFallback' });
  });

  it('lets only fallback steps spend the emergency token reserve', () => {
    const h = harness({
      workflows: workflows(1),
      budgets: { tokens: { total: 1000, perAgent: 1000, emergency: 500 } },
    });
    h.step();
    h.fail('research', { error: { class: 'API_ERROR' }, usage: { tokens: 1000, costUSD: '0' } });
    const decision = h.step();
    expect(h.phase).to.equal('Running');
    expect((JSON.parse(decision.create[0]?.env[ENV.budget] ?? '{}') as { tokens?: number }).tokens).to.equal(
      500,
    );
  });

  it('stops at once on an emergency error class, tells each notify target, and fails with EmergencyStop', () => {
    const h = harness();
    h.step();
    h.fail('research', { error: { class: 'SECURITY_INCIDENT', message: 'leaked key' } });
    const decision = h.step();
    expect(h.phase).to.equal('Failed');
    expect(h.condition('Failed')).to.include({ reason: 'EmergencyStop' });
    expect(decision.delete).to.have.length(1);
    expect(decision.notifications.map((n) => n.target)).to.deep.equal(['security_team', 'ops_manager']);
    expect(decision.events.filter((e) => e.reason === 'EmergencyNotification')).to.have.length(2);
    expect(h.step().notifications).to.deep.equal([]);
  });

  it('counts emergency trigger failures across the run and stops only at the threshold (issue 25)', () => {
    const h = harness({
      workflows: {
        emergency: {
          trigger: { conditions: ['RATE_LIMIT'], threshold: 3 },
          steps: [{ name: 'safe_shutdown', action: 'terminate', notify: ['ops_manager'] }],
        },
      },
    });
    h.step();
    for (const failure of [1, 2]) {
      h.fail('research', { error: { class: 'RATE_LIMIT', message: 'slow down' } });
      const decision = h.step();
      expect(h.phase, `after failure ${failure}`).to.equal('Running');
      expect(decision.notifications).to.deep.equal([]);
      expect(h.runbook.status?.workflow?.emergencyTriggers).to.equal(failure);
      // The retry is due after its backoff.
      h.now = new Date(h.now.getTime() + 60_000);
      h.step();
    }
    h.fail('research', { error: { class: 'RATE_LIMIT', message: 'slow down' } });
    const third = h.step();
    expect(h.condition('Failed')).to.include({ reason: 'EmergencyStop' });
    expect(h.condition('Failed')?.message).to.contain('3 failures of classes RATE_LIMIT');
    expect(third.notifications.map((n) => n.target)).to.deep.equal(['ops_manager']);
  });
});

describe('workflows: terminate and notify on any step (issue 25)', () => {
  const stepped = (steps: NonNullable<NonNullable<SpecV2['workflows']>['main']>['steps']) =>
    new EngineHarness(
      runbookOf(
        spec({
          execution: { mode: 'pipeline' },
          workflows: { main: { steps } },
          stages: [stage('research'), stage('write'), stage('publish')],
        }),
      ),
      catalog('research', 'write', 'publish'),
    );

  it('a main step’s notify targets are told once, when it first starts', () => {
    const h = stepped([{ name: 'research', notify: ['research_team'] }, { name: 'write' }]);
    const first = h.step();
    expect(first.notifications).to.deep.equal([
      {
        target: 'research_team',
        reason: 'StepStarted',
        message: 'step research of the main workflow of runbook ns/rb started',
      },
    ]);
    expect(first.events.map((event) => event.reason)).to.include('StepNotification');
    expect(h.step().notifications).to.deep.equal([]);
    h.succeed('research');
    expect(h.step().notifications).to.deep.equal([]);
  });

  it('action terminate ends the main workflow there: later steps never run, and its targets are told', () => {
    const h = stepped([
      { name: 'research' },
      { name: 'stop_here', action: 'terminate', notify: ['ops_manager'] },
      { name: 'publish' },
    ]);
    h.step();
    expect(h.runbook.status?.stages?.map((s) => s.name)).to.deep.equal(['research']);
    h.succeed('research');
    const ended = h.step();
    expect(h.phase).to.equal('Succeeded');
    expect([...h.plans.values()].map((plan) => plan.stage)).to.deep.equal(['research']);
    expect(ended.notifications).to.deep.equal([
      {
        target: 'ops_manager',
        reason: 'WorkflowTerminated',
        message: 'the main workflow of runbook ns/rb reached its terminate step stop_here',
      },
    ]);
    expect(h.step().notifications).to.deep.equal([]);
  });
});

describe('workflows: deployment validation', () => {
  const validated = (failOnCritical: boolean) =>
    new EngineHarness(
      runbookOf(
        spec({
          agents: {
            pipeline: [],
            deployment: {
              security: { enabled: true, config: { failOnCritical } },
              performance: { enabled: false },
            },
          },
          stages: [stage('build')],
        }),
      ),
      catalog('build', 'security'),
    );

  it('runs enabled validation agents after the main workflow', () => {
    const h = validated(true);
    h.step();
    expect(h.runbook.status?.stages?.map((s) => [s.name, s.workflow])).to.deep.equal([
      ['build', 'main'],
      ['validate-security', 'validation'],
    ]);
    expect(h.last?.create.map((plan) => plan.stage)).to.deep.equal(['build']);
    h.succeed('build');
    h.step();
    expect(h.last?.create.map((plan) => plan.agent)).to.deep.equal(['security']);
    h.succeed('validate-security', { findings: [{ severity: 'low' }] });
    h.step();
    expect(h.phase).to.equal('Succeeded');
  });

  it('fails the run with ValidationFailed on a critical finding when failOnCritical is set', () => {
    const h = validated(true);
    h.step();
    h.succeed('build');
    h.step();
    h.succeed('validate-security', { findings: [{ severity: 'critical', message: 'SQL injection' }] });
    h.step();
    expect(h.phase).to.equal('Failed');
    expect(h.condition('Failed')).to.include({ reason: 'ValidationFailed' });
  });

  it('records a critical finding without failing when failOnCritical is not set', () => {
    const h = validated(false);
    h.step();
    h.succeed('build');
    h.step();
    h.succeed('validate-security', { findings: [{ severity: 'critical' }] });
    h.step();
    expect(h.phase).to.equal('Succeeded');
  });
});

describe('circuit breakers', () => {
  const failed = (minute: number, errorClass = 'API_ERROR'): JobObservation => ({
    name: `j${minute}`,
    stage: 's',
    agent: 'research',
    execution: 'g1',
    generation: 1,
    attempt: 1,
    state: 'failed',
    podTerminated: true,
    completionTime: new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString(),
    terminationMessage: JSON.stringify({ error: { class: errorClass } }),
  });
  const finished = (...jobs: JobObservation[]) => ({ finished: jobs, running: 0 });
  const config = { threshold: 3, resetTimeoutMs: 60_000 };
  const at = (minute: number) => Date.UTC(2026, 0, 1, 0, minute);

  it('opens after threshold infrastructure failures, half-opens after the reset timeout, closes on success', () => {
    expect(breakerState(finished(failed(0), failed(1)), config, at(2)).state).to.equal('closed');
    expect(breakerState(finished(failed(0), failed(1), failed(2)), config, at(2)).state).to.equal('open');
    expect(breakerState(finished(failed(0), failed(1), failed(2)), config, at(4))).to.deep.equal({
      state: 'half-open',
      probeRunning: false,
    });
    const success = { ...failed(5), state: 'succeeded' as const, terminationMessage: '{}' };
    expect(breakerState(finished(failed(0), failed(1), failed(2), success), config, at(6)).state).to.equal(
      'closed',
    );
  });

  it('with monitorPeriod counts only failures within that window of the newest (issue 25)', () => {
    const windowed = { ...config, monitorPeriodMs: 2 * 60_000 };
    // Minutes 0, 10, 11: the first is outside 2 minutes of the newest, so only two count.
    expect(breakerState(finished(failed(0), failed(10), failed(11)), windowed, at(11)).state).to.equal(
      'closed',
    );
    expect(breakerState(finished(failed(0), failed(10), failed(11)), config, at(11)).state).to.equal('open');
    expect(breakerState(finished(failed(9), failed(10), failed(11)), windowed, at(11)).state).to.equal(
      'open',
    );
  });

  it('counts a Job that exited 0 but reported an infrastructure error as a failure, as its stage does', () => {
    const exitedZero = (minute: number) => ({ ...failed(minute), state: 'succeeded' as const });
    expect(breakerState(finished(exitedZero(0), exitedZero(1), exitedZero(2)), config, at(2)).state).to.equal(
      'open',
    );
  });

  it('closes on a success whose outputs are in its agent’s log, which the breaker does not read', () => {
    const largeReport = {
      ...failed(5),
      state: 'succeeded' as const,
      terminationMessage: JSON.stringify({
        usage: { tokens: 10, costUSD: '0.01' },
        reportInLog: { bytes: 300_000, sha256: 'a'.repeat(64) },
      }),
    };
    expect(
      breakerState(finished(failed(0), failed(1), largeReport, failed(6), failed(7)), config, at(8)).state,
    ).to.equal('closed');
  });

  it('does not count failures that are not infrastructure errors', () => {
    expect(
      breakerState(
        finished(failed(0, 'VALIDATION_ERROR'), failed(1, 'CRITICAL_ERROR'), failed(2, 'UNKNOWN')),
        config,
        at(2),
      ).state,
    ).to.equal('closed');
  });

  it('holds new stages of an agent whose breaker is open (CircuitOpen, Degraded) and lets one probe through later', () => {
    const h = new EngineHarness(
      runbookOf(spec({ stages: [stage('a', { agent: 'research' }), stage('b', { agent: 'research' })] })),
      {
        agents: [{ name: 'research', image: 'x', circuitBreaker: { threshold: 3, resetTimeout: '1m' } }],
      },
    );
    h.agentHistory.set('research', finished(failed(1), failed(2), failed(3)));
    h.now = new Date(at(3) + 10_000);
    const held = h.step();
    expect(held.create).to.deep.equal([]);
    expect(h.stage('a')).to.include({ phase: 'Pending', reason: 'CircuitOpen' });
    expect(h.condition('Degraded')).to.include({ status: 'True', reason: 'CircuitOpen' });
    expect(held.requeueAfterMs).to.equal(50_000);
    h.now = new Date(at(4) + 1000);
    const probe = h.step();
    expect(probe.create.map((plan) => plan.stage)).to.deep.equal(['a']);
    h.agentHistory.set(
      'research',
      finished(failed(1), failed(2), failed(3), {
        ...failed(5),
        state: 'succeeded',
        terminationMessage: '{}',
      }),
    );
    h.succeed('a');
    expect(h.step().create.map((plan) => plan.stage)).to.deep.equal(['b']);
    expect(h.condition('Degraded')).to.equal(undefined);
  });

  it("keeps a namespaced Agent's breaker to its namespace: another team's agent of the same name still runs", () => {
    const failing = finished(failed(1), failed(2), failed(3));
    const teamOf = (namespace: string) => {
      const h = new EngineHarness(runbookOf(spec({ stages: [stage('a', { agent: 'research' })] })), {
        agents: [
          {
            name: 'research',
            image: 'x',
            key: `${namespace}/research`,
            circuitBreaker: { threshold: 3 },
          } as never,
        ],
      });
      h.agentHistory.set('team-a/research', failing);
      h.now = new Date(at(3) + 10_000);
      return h;
    };
    const held = teamOf('team-a');
    expect(held.step().create).to.deep.equal([]);
    expect(held.stage('a')).to.include({ reason: 'CircuitOpen' });
    const other = teamOf('team-b');
    const created = other.step().create;
    expect(created.map((plan) => [plan.stage, plan.agentKey])).to.deep.equal([['a', 'team-b/research']]);
  });
});
