import { expect } from 'chai';
import type { SpecV2 } from '../../../../src/api/v2/runbook.js';
import { catalogFor, EngineHarness, runbookOf, spec } from '../../../support/engine-harness.js';
import { MemoryResults } from '../../../support/memory-results.js';

type StageSketch = NonNullable<SpecV2['agents']['pipeline']>[number];

/** research reports competitors; analyze fans out over them; report reads the gathered list. */
function fanSpec(analyze: Partial<StageSketch> = {}, parallelism = 5): SpecV2 {
  return spec({
    execution: { mode: 'hybrid', parallelism },
    stages: [
      { name: 'research', config: { outputs: { competitors: 'array' } } },
      {
        name: 'analyze',
        forEach: '${research.outputs.competitors}',
        config: {
          inputs: { company: '${item.name}', position: '${index}', whole: '${item}' },
          outputs: { summary: 'string' },
        },
        ...analyze,
      },
      { name: 'report', config: { inputs: { summaries: '${analyze.outputs.summary}' } } },
    ],
  });
}

const competitors = (count: number) => Array.from({ length: count }, (_, i) => ({ name: `c${i}` }));

/** Succeeds every running item of analyze, each summarising its company; returns how many. */
function succeedItems(h: EngineHarness): number {
  const running = h.active().filter((job) => job.stage.startsWith('analyze['));
  for (const job of running) {
    const inputs = JSON.parse(h.plans.get(job.name)?.files.inputs ?? '{}') as { company: string };
    h.succeed(job.stage, { summary: `about ${inputs.company}` });
  }
  return running.length;
}

describe('forEach: one Job per item of a list', () => {
  it('fans out over an upstream list, each item one Job with ${item}, ${item.field} and ${index}, outputs gathered in item order', () => {
    const h = new EngineHarness(runbookOf(fanSpec({ maxParallel: 3 })));
    h.step();
    h.succeed('research', { competitors: competitors(7) });
    h.step();
    expect(h.stage('analyze')).to.include({ phase: 'Running', reason: 'ItemsRunning' });
    expect(h.active().map((job) => job.stage)).to.deep.equal(['analyze[0]', 'analyze[1]', 'analyze[2]']);
    const first = h.plans.get(h.activeFor('analyze[1]').name);
    expect(JSON.parse(first?.files.inputs ?? '{}')).to.deep.equal({
      company: 'c1',
      position: 1,
      whole: { name: 'c1' },
    });
    expect(h.stage('analyze[1]')).to.include({ phase: 'Running', attempt: 1 });
    let rounds = 0;
    while (h.stage('analyze').phase === 'Running' && rounds < 20) {
      expect(h.active().length, 'maxParallel holds').to.be.at.most(3);
      succeedItems(h);
      h.step();
      rounds += 1;
    }
    const analyze = h.stage('analyze');
    expect(analyze).to.include({ phase: 'Succeeded', message: 'all 7 items succeeded' });
    expect(analyze.outputs?.summary).to.deep.equal(competitors(7).map((c) => `about ${c.name}`));
    expect(analyze.items).to.include({
      count: 7,
      started: 7,
      succeeded: 7,
      failed: 0,
      succeededIndexes: '0-6',
    });
    expect(analyze.usage).to.deep.equal({ tokens: 70, costUSD: '0.07' });
    expect(h.runbook.status?.stages?.map((stage) => stage.name)).to.deep.equal([
      'research',
      'analyze',
      'report',
    ]);
    const report = h.plans.get(h.activeFor('report').name);
    expect(JSON.parse(report?.files.inputs ?? '{}')).to.deep.equal({
      summaries: competitors(7).map((c) => `about ${c.name}`),
    });
    expect(h.runbook.status?.progress).to.equal('2/3');
    expect(h.runbook.status?.metrics?.stages?.find((m) => m.name === 'analyze')?.attempts).to.equal(7);
  });

  it('keeps the status bounded however long the list: running items in detail, the rest as counts and ranges', () => {
    const h = new EngineHarness(runbookOf(fanSpec({}, 1000)));
    h.catalog = { ...h.catalog, fanOut: { maxItems: 2000 } };
    h.step();
    h.succeed('research', { competitors: competitors(1500) });
    h.step();
    expect(h.runbook.status?.stages?.length).to.equal(3 + 100);
    while (h.stage('analyze').phase === 'Running') {
      succeedItems(h);
      h.step();
      expect(h.runbook.status?.stages?.length ?? 0).to.be.at.most(3 + 100);
    }
    const analyze = h.stage('analyze');
    expect(analyze.items).to.include({ count: 1500, succeeded: 1500, succeededIndexes: '0-1499' });
    expect(analyze.items?.recent).to.have.length(8);
    expect(analyze.outputs?.summary, 'a long list goes to a ConfigMap').to.equal(undefined);
    expect(analyze.outputRefs?.summary?.bytes).to.be.greaterThan(1024);
  });

  it('fails the stage on an item that failed after its retries, stopping the others (onItemFailure fail)', () => {
    const h = new EngineHarness(runbookOf(fanSpec({ config: { retries: 1, inputs: { c: '${item}' } } })));
    h.step();
    h.succeed('research', { competitors: competitors(4) });
    h.step();
    h.fail('analyze[2]', { error: { class: 'TIMEOUT', message: 'slow' } });
    h.step();
    expect(h.stage('analyze[2]'), 'its own retry').to.include({ phase: 'Running', attempt: 2 });
    expect(h.stage('analyze').phase).to.equal('Running');
    h.fail('analyze[2]', { error: { class: 'TIMEOUT', message: 'slow again' } });
    const decision = h.step();
    const analyze = h.stage('analyze');
    expect(analyze).to.include({ phase: 'Failed', reason: 'ItemFailed' });
    expect(analyze.message).to.match(
      /^item 2 failed \(AgentFailed\): attempt 2 failed with TIMEOUT: slow again; its other items were stopped/,
    );
    expect(decision.delete.map((d) => d.name).length, 'the three other running items stop').to.equal(3);
    expect(h.phase).to.equal('Failed');
    expect(analyze.items?.attempts).to.equal(2);
  });

  it('collects failed items as null and succeeds with the rest (onItemFailure collect)', () => {
    const h = new EngineHarness(runbookOf(fanSpec({ onItemFailure: 'collect' })));
    h.step();
    h.succeed('research', { competitors: competitors(3) });
    h.step();
    h.succeed('analyze[0]', { summary: 'a' });
    h.fail('analyze[1]', { error: { class: 'VALIDATION_ERROR', message: 'bad' } });
    h.succeed('analyze[2]', { summary: 'c' });
    h.step();
    const analyze = h.stage('analyze');
    expect(analyze).to.include({ phase: 'Succeeded' });
    expect(analyze.message).to.equal('2 of 3 items succeeded; failed (collected as null): 1');
    expect(analyze.outputs?.summary).to.deep.equal(['a', null, 'c']);
    expect(analyze.items?.failedIndexes).to.equal('1');
  });

  it('fails the stage when the upstream output is not a list, saying what it got', () => {
    const s = fanSpec();
    s.agents.pipeline?.splice(0, 1, { name: 'research' });
    const h = new EngineHarness(runbookOf(s));
    h.step();
    h.succeed('research', { competitors: { acme: 1 } });
    h.step();
    expect(h.stage('analyze')).to.include({ phase: 'Failed', reason: 'ForEachNotAList' });
    expect(h.stage('analyze').message).to.equal(
      'forEach ${research.outputs.competitors} gave an object ({"acme":1}), not a list',
    );
  });

  it('fails a list over the limit with its size and the limit', () => {
    const h = new EngineHarness(runbookOf(fanSpec()));
    h.catalog = { ...h.catalog, fanOut: { maxItems: 10 } };
    h.step();
    h.succeed('research', { competitors: competitors(11) });
    h.step();
    expect(h.stage('analyze')).to.include({ phase: 'Failed', reason: 'TooManyItems' });
    expect(h.stage('analyze').message).to.equal(
      "forEach gave 11 items, over the limit of 10 (the operator's fanOut.maxItems)",
    );
  });

  it('an empty list succeeds at once with empty lists', () => {
    const h = new EngineHarness(runbookOf(fanSpec()));
    h.step();
    h.succeed('research', { competitors: [] });
    h.step();
    expect(h.stage('analyze')).to.include({ phase: 'Succeeded', message: 'forEach gave no items' });
    expect(h.stage('analyze').outputs).to.deep.equal({ summary: [] });
  });

  it('runs over a literal list and a context list', () => {
    const literal = new EngineHarness(
      runbookOf(
        spec({ stages: [{ name: 'each', forEach: ['a', 'b'], config: { inputs: { x: '${item}' } } }] }),
      ),
    );
    literal.step();
    expect(literal.active().map((job) => job.stage)).to.deep.equal(['each[0]', 'each[1]']);
    const context = new EngineHarness(
      runbookOf(
        spec({
          context: { domains: ['health', 'finance', 'retail'] },
          stages: [
            { name: 'each', forEach: '${context.domains}', config: { inputs: { x: '${item|upper}' } } },
          ],
        }),
      ),
    );
    context.step();
    const plan = context.plans.get(context.activeFor('each[2]').name);
    expect(JSON.parse(plan?.files.inputs ?? '{}')).to.deep.equal({ x: 'RETAIL' });
  });

  it('an item whose outputs are too large to gather fails, and says how to pass them', () => {
    const h = new EngineHarness(runbookOf(fanSpec({ onItemFailure: 'collect' })));
    h.step();
    h.succeed('research', { competitors: competitors(2) });
    h.step();
    h.succeed('analyze[0]', { summary: 'x'.repeat(5000) });
    h.succeed('analyze[1]', { summary: 'small' });
    h.step();
    const analyze = h.stage('analyze');
    expect(analyze.outputs?.summary).to.deep.equal([null, 'small']);
    expect(analyze.items?.recent?.[0]).to.include({ index: 0, phase: 'Failed', reason: 'OutputsTooLarge' });
    expect(analyze.items?.recent?.[0]?.message).to.match(/over the 4096 a forEach item may/);
  });

  it('a restart between the status write and the Jobs creates the same item Jobs, never others', () => {
    const h = new EngineHarness(runbookOf(fanSpec({ maxParallel: 2 })));
    h.step();
    h.succeed('research', { competitors: competitors(3) });
    const first = h.decideOnly();
    h.runbook = { ...h.runbook, status: first.status };
    const again = h.decideOnly();
    expect(again.create.map((plan) => plan.name)).to.deep.equal(first.create.map((plan) => plan.name));
    expect(again.create.map((plan) => plan.stage)).to.deep.equal(['analyze[0]', 'analyze[1]']);
  });

  it('each item gets its own budget grant, under the run budget', () => {
    const s = fanSpec({ maxParallel: 4 });
    s.budgets = { tokens: { total: 1000, perAgent: 100 } };
    const h = new EngineHarness(runbookOf(s));
    h.step();
    h.succeed('research', { competitors: competitors(4) }, { tokens: 100, costUSD: '0' });
    h.step();
    for (let i = 0; i < 4; i += 1) expect(h.stage(`analyze[${i}]`).grant).to.deep.equal({ tokens: 100 });
  });

  it('fails a list too large for the status to hold its items, saying where it went', () => {
    const h = new EngineHarness(runbookOf(fanSpec()));
    h.maxOutputBytes = 4 * 1024 * 1024;
    h.catalog = { ...h.catalog, fanOut: { maxItems: 10_000 } };
    h.step();
    h.succeed('research', {
      competitors: Array.from({ length: 5000 }, (_, i) => ({ name: `competitor ${i}` })),
    });
    h.step();
    expect(h.stage('research').outputRefs?.competitors?.bytes).to.be.greaterThan(64 * 1024);
    expect(h.stage('analyze')).to.include({ phase: 'Failed', reason: 'ForEachNotAList' });
    expect(h.stage('analyze').message).to.match(
      /^forEach \$\{research\.outputs\.competitors\}: research\.outputs\.competitors is \d+ bytes, kept in ConfigMap .* outside the status/,
    );
  });

  it('an item failure of a fallback trigger class hands the run to the fallback workflow, stopping the other items', () => {
    const s = fanSpec({ maxParallel: 3 });
    s.workflows = {
      fallback: { trigger: { conditions: ['TIMEOUT'] }, steps: [{ name: 'summary', agent: 'librarian' }] },
    };
    const catalog = catalogFor(s);
    const h = new EngineHarness(runbookOf(s), {
      agents: [...catalog.agents, { name: 'librarian', image: 'example.com/agents/librarian:1' }],
    });
    h.step();
    h.succeed('research', { competitors: competitors(5) });
    h.step();
    h.fail('analyze[1]', { error: { class: 'TIMEOUT', message: 'slow' } });
    // The last item's Job is not in the cache yet: it is stopped all the same.
    const unseen = h.activeFor('analyze[2]').name;
    h.jobs = h.jobs.filter((job) => job.name !== unseen);
    const decision = h.step();
    expect(h.runbook.status?.workflow?.active).to.equal('fallback');
    expect(h.stage('analyze')).to.include({ phase: 'Failed', reason: 'StoppedForFallback' });
    expect(decision.delete.map((d) => d.reason)).to.deep.equal(['RunStopped', 'RunStopped']);
    expect(decision.delete.map((d) => d.name)).to.include(unseen);
    expect(h.active().map((job) => job.stage)).to.deep.equal(['summary']);
  });

  it('each item is cached on its own key: a second run reuses every item, and a changed item alone runs', () => {
    const results = new MemoryResults();
    const cached = (names: string[]) => {
      const s = fanSpec({ cache: { maxAge: '1h' }, forEach: names.map((name) => ({ name })) });
      s.agents.pipeline?.splice(0, 1);
      s.agents.pipeline?.splice(1, 1);
      const h = new EngineHarness(runbookOf(s));
      h.results = results;
      return h;
    };
    const first = cached(['a', 'b', 'c']);
    first.step();
    succeedItems(first);
    first.step();
    expect(first.stage('analyze').outputs?.summary).to.deep.equal(['about a', 'about b', 'about c']);
    const second = cached(['a', 'x', 'c']);
    second.step();
    expect(
      second.active().map((job) => job.stage),
      'only the changed item runs',
    ).to.deep.equal(['analyze[1]']);
    succeedItems(second);
    second.step();
    expect(second.stage('analyze')).to.include({ phase: 'Succeeded' });
    expect(second.stage('analyze').outputs?.summary).to.deep.equal(['about a', 'about x', 'about c']);
  });
});
