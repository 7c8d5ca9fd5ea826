/**
 * Stage result caching on a real control plane (RBAC on, the operator under its ServiceAccount
 * and serving its admission webhook): a rerun that reuses the first two of three stages and runs
 * the third, results that outlive their runbook, a namespace's bound, a restart while a cached
 * stage finishes, RBAC keeping tenants to their own namespace's results, and admission of what
 * cannot be cached. That lookups never cross namespaces is test/unit/controller/result-cache.test.ts.
 */
import { expect } from 'chai';
import { stringify } from 'yaml';
import type { AgentCatalog } from '../../src/api/catalog.js';
import { CACHE_KIND } from '../../src/api/group.js';
import type { CachedResultJson } from '../../src/kube/types.js';
import { kubectl } from '../../hack/local-cluster/tools.js';
import { startCli } from '../support/cli-process.js';
import { eventually } from '../support/eventually.js';
import { testNamespace } from '../support/operator-harness.js';
import { RunbookEnv, runbook, type StageSketch } from '../support/runbook-env.js';
import { succeed, type AgentCall } from '../support/scripted-agents.js';

const CATALOG: AgentCatalog = {
  agents: [
    ...['research', 'analyze', 'write', 'fresh'].map((name) => ({
      name,
      image: `registry.example/agents/${name}:1.0.0`,
    })),
    { name: 'live', image: 'registry.example/agents/live:1.0.0', cache: false },
  ],
  resultCache: { maxEntriesPerNamespace: 4 },
};

/** research -> analyze -> write; write's tone is what a spec change touches. */
function threeStages(tone: string, research: Record<string, unknown> = {}): StageSketch[] {
  return [
    { name: 'research', config: { inputs: { topic: '${context.title}', ...research } } },
    { name: 'analyze', dependsOn: ['research'], config: { inputs: { facts: '${research.outputs.facts}' } } },
    {
      name: 'write',
      dependsOn: ['analyze'],
      config: { inputs: { summary: '${analyze.outputs.summary}' }, parameters: { tone } },
    },
  ];
}

const cached = (name: string, stages: StageSketch[]) =>
  runbook(name, 'pipeline', stages, { execution: { mode: 'pipeline', cache: { maxAge: '24h' } } });

describe('stage result caching on a real control plane', function () {
  this.timeout(300_000);
  const env = new RunbookEnv('cache', CATALOG, { webhook: true });
  const results = async () => {
    const listed = await env.k('get', CACHE_KIND.plural, '-o', 'json');
    expect(listed.code, listed.stderr).to.equal(0);
    return (JSON.parse(listed.stdout) as { items: CachedResultJson[] }).items;
  };
  const callsOf = (name: string) =>
    env.calls
      .filter((call) => call.pod.metadata?.labels?.['i2s.studio/runbook'] === name)
      .map((c) => c.stage);
  const scrape = async () => {
    const text = await (await fetch(`http://127.0.0.1:${String(env.operator?.metricsPort)}/metrics`)).text();
    return (series: string) => {
      const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    };
  };

  /** Each stage's outputs follow from its inputs, as a deterministic agent's would. */
  const agents = (call: AgentCall) =>
    succeed(
      call.stage === 'research'
        ? { facts: [`facts about ${String(call.inputs.topic)}`, 'x'.repeat(3000)] }
        : call.stage === 'analyze'
          ? { summary: `summary of ${JSON.stringify(call.inputs.facts).length} bytes` }
          : { text: `essay: ${String(call.inputs.summary)}` },
      { tokens: 1000, costUSD: '0.10' },
    );

  before(async () => {
    await env.start();
    env.script = agents;
  });
  after(() => env.stop());

  it('a rerun after a change to the last stage reuses the first two and runs the third, showing what it saved', async () => {
    await env.apply(cached('essay', threeStages('plain')));
    await env.waitPhase('essay', 'Succeeded');
    expect(callsOf('essay')).to.deep.equal(['research', 'analyze', 'write']);
    expect((await results()).map((result) => result.spec.origin.stage).sort()).to.deep.equal([
      'analyze',
      'research',
      'write',
    ]);
    const firstWrite = env.calls.find((call) => call.stage === 'write');

    await env.apply(cached('essay', threeStages('formal')));
    await eventually(async () => {
      const status = await env.status('essay');
      expect(status).to.include({ observedGeneration: 2, phase: 'Succeeded' });
    });
    expect(callsOf('essay')).to.deep.equal(['research', 'analyze', 'write', 'write']);
    // The third stage read exactly what it read the first time, large output included.
    const secondWrite = env.calls.filter((call) => call.stage === 'write')[1];
    expect(secondWrite?.inputs).to.deep.equal(firstWrite?.inputs);
    const status = (await env.status('essay')) as {
      stages: { name: string; reason: string; cache?: { result: string; saved?: unknown } }[];
      metrics: Record<string, unknown>;
      usage: Record<string, unknown>;
    };
    expect(status.stages.map((stage) => [stage.name, stage.reason, stage.cache?.result])).to.deep.equal([
      ['research', 'Cached', 'Hit'],
      ['analyze', 'Cached', 'Hit'],
      ['write', 'Succeeded', 'Miss'],
    ]);
    expect(status.usage).to.deep.include({ tokens: 1000, costUSD: '0.10' });
    expect(status.metrics).to.deep.include({ cachedStages: 2, tokensSaved: 2000, costSaved: '0.20' });
    expect(await env.eventCount('essay', 'CacheHit')).to.equal(2);
    expect(await env.eventCount('essay', 'CacheStored')).to.be.at.least(3);

    const get = startCli([
      'get',
      'essay',
      `--kubeconfig=${env.plane.adminKubeconfigPath}`,
      '-n',
      env.namespace,
    ]);
    expect(await get.exited, get.output()).to.equal(0);
    expect(get.output()).to.match(/Saved:\s+2,000 tokens, \$0\.20 {2}\(2 stages reused from the cache\)/);
    expect(get.output()).to.match(/✔ research\s+Succeeded\s+cached/);

    const metric = await scrape();
    expect(metric(`agentrunbook_cache_hits_total{namespace="${env.namespace}"}`)).to.equal(2);
    expect(metric(`agentrunbook_cache_misses_total{namespace="${env.namespace}"}`)).to.equal(4);
    expect(metric(`agentrunbook_tokens_saved_total{namespace="${env.namespace}"}`)).to.equal(2000);
    expect(metric(`agentrunbook_cost_saved_dollars_total{namespace="${env.namespace}"}`)).to.equal(0.2);
  });

  it('stored results outlive their runbook: another runbook asking the same reuses them, and cache clear forgets them', async () => {
    const before = await results();
    expect((await env.k('delete', 'arb', 'essay', '--wait=true')).code).to.equal(0);
    expect((await results()).map((result) => result.metadata.name).sort()).to.deep.equal(
      before.map((result) => result.metadata.name).sort(),
    );
    await env.apply(cached('essay-again', threeStages('formal')));
    await env.waitPhase('essay-again', 'Succeeded');
    expect(callsOf('essay-again')).to.deep.equal([]);

    const cli = (...args: string[]) =>
      startCli(['cache', ...args, `--kubeconfig=${env.plane.adminKubeconfigPath}`, '-n', env.namespace]);
    const list = cli('list', '--stage', 'research');
    expect(await list.exited, list.output()).to.equal(0);
    expect(list.output()).to.match(/^NAME\s+STAGE\s+AGENT\s+RUNBOOK\s+TOKENS\s+COST\s+AGE\s+EXPIRES IN/);
    expect(list.output()).to.match(/research\s+research\s+essay\s+1,000\s+\$0\.10/);
    const refused = cli('clear');
    expect(await refused.exited).to.equal(1);
    const clear = cli('clear', '--stage', 'research');
    expect(await clear.exited, clear.output()).to.equal(0);
    expect(clear.output()).to.contain('cleared 1 stored result');
    expect((await results()).some((result) => result.spec.origin.stage === 'research')).to.equal(false);
  });

  it('a namespace keeps at most its bound of stored results, the oldest going first', async () => {
    for (const topic of ['one', 'two', 'three']) {
      await env.apply(cached(`bounded-${topic}`, threeStages(topic, { topic })));
      await env.waitPhase(`bounded-${topic}`, 'Succeeded');
    }
    await eventually(async () => {
      const kept = await results();
      expect(kept).to.have.length(4);
      // The newest run's three are all kept.
      expect(kept.filter((result) => result.spec.origin.runbook === 'bounded-three')).to.have.length(3);
    });
  });

  it('a cached stage that finishes while the operator is down is stored once and its run goes on', async () => {
    env.script = (call) => (call.stage === 'research' ? 'hold' : agents(call));
    await env.apply(cached('restart', threeStages('plain', { topic: 'restart' })));
    await env.node.waitFor(() => env.held('restart').length === 1, 30_000, 'research running');
    await env.stopOperator();
    await env.node.finish(
      env.held('restart')[0] ?? '',
      succeed({ facts: ['kept'] }, { tokens: 7, costUSD: '0' }),
    );
    await env.startOperator();
    await env.waitPhase('restart', 'Succeeded');
    const stored = (await results()).filter((result) => result.spec.origin.runbook === 'restart');
    expect(stored.filter((result) => result.spec.origin.stage === 'research')).to.have.length(1);
    expect(stored.find((result) => result.spec.origin.stage === 'research')?.spec).to.deep.include({
      outputs: { facts: ['kept'] },
      usage: { tokens: 7, costUSD: '0.00' },
    });
  });

  it("a tenant reads its own namespace's stored results and no other's", async () => {
    const other = await testNamespace(env.plane, 'cache-other');
    await env.grant(
      'cache-reader',
      [{ apiGroups: ['i2s.studio'], resources: [CACHE_KIND.plural], verbs: ['get', 'list'] }],
      ['tenant-a'],
    );
    const own = await env.as('tenant-a', ['get', CACHE_KIND.plural, '-o', 'name']);
    expect(own.code, own.stderr).to.equal(0);
    expect(own.stdout).to.contain(`${CACHE_KIND.kind.toLowerCase()}.i2s.studio/`);
    const across = await kubectl(env.plane.adminKubeconfigPath, [
      '--as',
      'tenant-a',
      '-n',
      other,
      'get',
      CACHE_KIND.plural,
    ]);
    expect(across.code).to.not.equal(0);
    expect(across.stderr).to.contain('forbidden');
  });

  it('refuses at admission a cache on a stage whose agent is marked cache: false, naming the field', async () => {
    const manifest = stringify(
      runbook('uncacheable', 'pipeline', [{ name: 'now', agent: 'live', cache: { maxAge: '1h' } }]),
    );
    const applied = await kubectl(
      env.plane.adminKubeconfigPath,
      ['-n', env.namespace, 'apply', '-f', '-'],
      manifest,
    );
    expect(applied.code).to.not.equal(0);
    expect(applied.stderr).to.contain(
      'spec.agents.pipeline[0].cache: agent live is marked cache: false (its results are never reused)',
    );
  });
});
