import { createServer, type Server } from 'node:http';
import { expect } from 'chai';
import type { AgentCatalog } from '../../src/api/catalog.js';
import { ENV } from '../../src/api/agent-contract.js';
import { RunbookEnv, runbook, type JobSummary } from '../support/runbook-env.js';
import { succeed } from '../support/scripted-agents.js';

const agents = ['a', 'b', 'flaky', 'librarian', 'security', 'exp', 'lin', 'imm', 'cus'];
const CATALOG: AgentCatalog = {
  agents: agents.map((name) => ({
    name,
    image: `registry.example/agents/${name}:1`,
    ...(name === 'flaky' ? { circuitBreaker: { threshold: 2, resetTimeout: '4s' } } : {}),
  })),
};

function fail(errorClass: string, tokens = 10) {
  return {
    phase: 'Failed' as const,
    exitCode: 1,
    message: JSON.stringify({ error: { class: errorClass }, usage: { tokens, costUSD: '0.00' } }),
  };
}

/** When a Job became Failed, and when the next attempt's Job was created: the retry delay, in ms. */
function retryDelays(jobs: JobSummary[], failedAt: Map<string, string>): number[] {
  const ordered = [...jobs].sort(
    (x, y) =>
      Number(x.metadata.labels['i2s.studio/attempt']) - Number(y.metadata.labels['i2s.studio/attempt']),
  );
  return ordered.slice(1).map((job, index) => {
    const previous = ordered[index]?.metadata.name ?? '';
    return Date.parse(job.metadata.creationTimestamp) - Date.parse(failedAt.get(previous) ?? '');
  });
}

describe('guardrails on a real control plane', function () {
  this.timeout(120_000);
  const env = new RunbookEnv('guard', CATALOG);
  let receiver: Server | undefined;
  const received: string[] = [];

  before(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        received.push(body);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver?.listen(0, '127.0.0.1', resolve));
    const address = receiver.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    env.catalog = {
      ...CATALOG,
      notificationTargets: { security_team: { url: `http://127.0.0.1:${port}/hooks` } },
    };
    await env.start();
  });

  after(async () => {
    await env.stop();
    receiver?.close();
  });

  beforeEach(() => {
    env.script = () => succeed();
  });

  it('a stage timeout is enforced by the Job controller and fails the stage as TIMEOUT', async () => {
    env.script = () => 'hold';
    await env.apply(runbook('stage-timeout', 'pipeline', [{ name: 'a', config: { timeout: '2s' } }]));
    await env.waitPhase('stage-timeout', 'Failed');
    const status = await env.status('stage-timeout');
    expect(status.stages[0]).to.include({
      phase: 'Failed',
      reason: 'DeadlineExceeded',
      lastError: 'TIMEOUT',
    });
    const jobs = await env.k('get', 'jobs', '-l', 'i2s.studio/runbook=stage-timeout', '-o', 'json');
    const [job] = (
      JSON.parse(jobs.stdout) as {
        items: {
          spec: { activeDeadlineSeconds?: number };
          status: { conditions?: { type: string; status: string; reason?: string }[] };
        }[];
      }
    ).items;
    expect(job?.spec.activeDeadlineSeconds, 'the stage timeout handed to the Job').to.equal(2);
    // The stage failed as soon as the Job controller said so (FailureTarget), not when the Job's
    // final Failed came, after its Pod was gone (on a real node, up to the Pod's grace period).
    expect(job?.status.conditions?.find((condition) => condition.type === 'FailureTarget')).to.include({
      status: 'True',
      reason: 'DeadlineExceeded',
    });
  });

  it('the run’s own timeout fires while a stage runs: TimedOut, the Job deleted', async () => {
    env.script = () => 'hold';
    await env.apply(
      runbook('run-timeout', 'pipeline', [{ name: 'a' }], { execution: { mode: 'pipeline', timeout: '3s' } }),
    );
    await env.waitPhase('run-timeout', 'TimedOut');
    const timedOut = await env.condition('run-timeout', 'TimedOut');
    expect(timedOut).to.include({ status: 'True', reason: 'DeadlineExceeded' });
    expect(timedOut?.message).to.match(
      /took \d+s \(not counting time waiting at gates\), past its limit of 3s/,
    );
    await env.waitJobsGone('i2s.studio/runbook=run-timeout');
  });

  it('each retry strategy waits its delays between attempts (Job creation times)', async () => {
    env.script = (call) =>
      ['exp', 'lin', 'imm', 'cus'].includes(call.agent) ? fail('RATE_LIMIT') : succeed();
    const strategies = {
      exp: { type: 'exponential', baseDelay: '2s', maxDelay: '10s', multiplier: 2 },
      lin: { type: 'linear', initialDelay: '1s', increment: '2s', maxAttempts: 3 },
      imm: { type: 'immediate', maxAttempts: 3 },
      cus: {
        type: 'custom',
        function: 'customRetryLogic',
        parameters: { conditions: ['RATE_LIMIT'], backoffMultiplier: 3 },
      },
    };
    const expected: Record<string, number[]> = {
      exp: [2000, 4000],
      lin: [1000, 3000],
      imm: [0, 0],
      cus: [1000, 3000],
    };
    for (const [agent, strategy] of Object.entries(strategies)) {
      await env.apply(
        runbook(`retry-${agent}`, 'pipeline', [{ name: 'a', agent }], {
          execution: { mode: 'pipeline', retries: 2, retryStrategy: 's' },
          retryStrategies: { s: strategy },
        }),
      );
    }
    for (const [agent, delays] of Object.entries(expected)) {
      const name = `retry-${agent}`;
      await env.waitPhase(name, 'Failed');
      const jobs = await env.jobsOf(name);
      expect(jobs, name).to.have.length(3);
      const failedAt = new Map<string, string>();
      for (const job of jobs) {
        const got = await env.k(
          'get',
          'job',
          job.metadata.name,
          '-o',
          'jsonpath={.status.conditions[?(@.type=="Failed")].lastTransitionTime}',
        );
        failedAt.set(job.metadata.name, got.stdout);
      }
      const observed = retryDelays(jobs, failedAt);
      // Kubernetes timestamps have one-second resolution; reconciles add a little on top.
      observed.forEach((delay, index) => {
        expect(delay, `${name} retry ${index + 1}`).to.be.within(
          (delays[index] ?? 0) - 1000,
          (delays[index] ?? 0) + 2500,
        );
      });
      const status = await env.status(name);
      expect(status.stages[0]).to.include({ attempt: 3, lastError: 'RATE_LIMIT' });
    }
  });

  it('stops the run when the token budget is used up (BudgetExceeded, naming the figures)', async () => {
    env.script = () => succeed({}, { tokens: 1500, costUSD: '0.01' });
    await env.apply(
      runbook('tokens', 'pipeline', [{ name: 'a' }, { name: 'b' }], {
        budgets: { tokens: { total: 1000, perAgent: 800 } },
      }),
    );
    await env.waitPhase('tokens', 'BudgetExceeded');
    const exceeded = await env.condition('tokens', 'BudgetExceeded');
    expect(exceeded).to.include({ status: 'True', reason: 'TokenBudgetExceeded' });
    expect(exceeded?.message).to.contain('1500').and.contain('1000');
    const budget = env.calls.find(
      (call) => call.namespace === env.namespace && call.pod.metadata?.name?.startsWith('tokens-'),
    );
    expect(
      JSON.parse(budget?.pod.spec?.containers[0]?.env?.find((e) => e.name === ENV.budget)?.value ?? '{}'),
    ).to.include({ tokens: 800 });
    expect((await env.status('tokens')).stages[1]).to.include({ phase: 'Skipped' });
  });

  it('stops the run at maxUSD and raises one BudgetAlert at the threshold', async () => {
    env.script = () => succeed({}, { tokens: 1, costUSD: '0.40' });
    await env.apply(
      runbook('cost', 'pipeline', [{ name: 'a' }, { name: 'b' }, { name: 'a2', agent: 'a' }], {
        budgets: { cost: { maxUSD: '0.80', alertThreshold: '0.30' } },
      }),
    );
    await env.waitPhase('cost', 'BudgetExceeded');
    expect(await env.condition('cost', 'BudgetExceeded')).to.include({ reason: 'CostBudgetExceeded' });
    expect(await env.condition('cost', 'BudgetAlert')).to.include({ status: 'True' });
    expect(await env.eventCount('cost', 'BudgetAlert')).to.equal(1);
  });

  it('lets the fallback take over at its threshold, spending the emergency reserve, and ends Degraded', async () => {
    env.script = (call) => (call.agent === 'flaky' ? fail('API_ERROR', 500) : succeed());
    await env.apply(
      runbook('fallback', 'pipeline', [{ name: 'research', agent: 'flaky' }], {
        execution: { mode: 'pipeline', retries: 3 },
        budgets: { tokens: { total: 1000, emergency: 400 } },
        agents: {
          pipeline: [{ name: 'research', agent: 'flaky' }],
          core: { librarian: { config: { cacheTTL: '1h' } } },
        },
        workflows: {
          fallback: {
            trigger: { conditions: ['API_ERROR', 'TIMEOUT'], threshold: 2 },
            steps: [{ name: 'cached_research', agent: 'librarian', config: { useCache: true } }],
          },
        },
      }),
    );
    await env.waitPhase('fallback', 'Succeeded');
    const status = await env.status('fallback');
    expect(status.workflow).to.deep.include({ active: 'fallback', fallbackTriggers: 2 });
    expect(await env.condition('fallback', 'Degraded')).to.include({
      status: 'True',
      reason: 'CompletedViaFallback',
    });
    const librarian = env.calls.find(
      (call) => call.namespace === env.namespace && call.stage === 'cached_research',
    );
    const budget = librarian?.pod.spec?.containers[0]?.env?.find((e) => e.name === ENV.budget)?.value ?? '{}';
    expect(JSON.parse(budget)).to.include({ tokens: 400 });
    expect(status.usage).to.deep.include({ tokens: 1000 + 100 });
  });

  it('approves, rejects, times out and skips quality gates', async () => {
    const gate = (name: string, gates: unknown[], context = {}) =>
      env.apply(
        runbook(name, 'pipeline', [{ name: 'a' }], {
          quality: { gates },
          context: { riskLevel: 9, ...context },
        }),
      );
    await gate('gate-timeout', [{ name: 'review', required: true, timeout: '2s' }]);
    await gate('gate-skipped', [{ name: 'security_check', condition: 'context.riskLevel > 7' }], {
      riskLevel: 3,
    });
    await env.waitPhase('gate-timeout', 'Failed');
    expect(await env.condition('gate-timeout', 'Failed')).to.include({ reason: 'GateTimedOut' });
    await env.waitPhase('gate-skipped', 'Succeeded');
    expect((await env.status('gate-skipped')).gates?.[0]).to.include({ phase: 'NotApplicable' });
  });

  it('an emergency error stops everything at once and tells the notify targets (HTTP POST received)', async () => {
    env.script = (call) => (call.stage === 'a' ? fail('SECURITY_INCIDENT') : 'hold');
    await env.apply(
      runbook('emergency', 'parallel', [{ name: 'b' }, { name: 'a' }], {
        workflows: {
          emergency: {
            trigger: { conditions: ['CRITICAL_ERROR', 'SECURITY_INCIDENT'] },
            steps: [{ name: 'safe_shutdown', action: 'terminate', notify: ['security_team', 'ops_manager'] }],
          },
        },
      }),
    );
    await env.waitPhase('emergency', 'Failed');
    expect(await env.condition('emergency', 'Failed')).to.include({ reason: 'EmergencyStop' });
    await env.waitJobsGone('i2s.studio/runbook=emergency,i2s.studio/stage=b');
    await env.node.waitFor(
      () => received.some((body) => body.includes('"emergency"')),
      30_000,
      'the notification',
    );
    const notification = JSON.parse(received.find((body) => body.includes('"emergency"')) ?? '{}') as Record<
      string,
      unknown
    >;
    expect(notification).to.deep.include({ target: 'security_team', reason: 'EmergencyStop' });
    expect(await env.eventCount('emergency', 'EmergencyNotification')).to.equal(2);
  });

  it('opens an agent’s circuit breaker across runbooks, holds its stages, and closes after a good probe', async () => {
    env.script = (call) => (call.agent === 'flaky' ? fail('API_ERROR') : succeed());
    await env.apply(runbook('breaker-1', 'pipeline', [{ name: 'x', agent: 'flaky' }]));
    await env.waitPhase('breaker-1', 'Failed');
    await env.apply(runbook('breaker-2', 'pipeline', [{ name: 'x', agent: 'flaky' }]));
    await env.waitPhase('breaker-2', 'Failed');
    env.script = () => succeed();
    await env.apply(runbook('breaker-3', 'pipeline', [{ name: 'x', agent: 'flaky' }]));
    const open = await env.k('wait', '--for=condition=Degraded', '--timeout=30s', 'arb/breaker-3');
    expect(open.code, open.stderr).to.equal(0);
    expect((await env.status('breaker-3')).stages[0]).to.include({ phase: 'Pending', reason: 'CircuitOpen' });
    await env.waitPhase('breaker-3', 'Succeeded');
    expect(await env.condition('breaker-3', 'Degraded')).to.equal(undefined);
  });

  it('an environment overlay changes the budget the run uses, and status shows the effective values', async () => {
    env.script = () => succeed({}, { tokens: 600, costUSD: '0.00' });
    await env.apply(
      runbook('overlay', 'pipeline', [{ name: 'a' }, { name: 'b' }], {
        environment: 'testing',
        budgets: { tokens: { total: 100000 } },
        environments: { testing: { budgets: { tokens: { total: 500 } } } },
      }),
    );
    await env.waitPhase('overlay', 'BudgetExceeded');
    const status = await env.status('overlay');
    expect(status.effective).to.deep.include({ environment: 'testing', budgets: { tokens: { total: 500 } } });
  });

  it('fails the run ValidationFailed when a deployment validation agent reports a critical finding', async () => {
    env.script = (call) =>
      call.agent === 'security'
        ? succeed({ findings: [{ severity: 'critical', message: 'open bucket' }] })
        : succeed();
    await env.apply(
      runbook('validated', 'pipeline', [{ name: 'a' }], {
        agents: {
          pipeline: [{ name: 'a' }],
          deployment: { security: { enabled: true, config: { failOnCritical: true } } },
        },
      }),
    );
    await env.waitPhase('validated', 'Failed');
    expect(await env.condition('validated', 'Failed')).to.include({ reason: 'ValidationFailed' });
    const stages = (await env.status('validated')).stages.map((stage) => [stage.name, stage.phase]);
    expect(stages).to.deep.equal([
      ['a', 'Succeeded'],
      ['validate-security', 'Failed'],
    ]);
  });
});
