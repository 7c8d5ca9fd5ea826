import { expect } from 'chai';
import fc from 'fast-check';
import { ANNOTATION_RERUN } from '../../../../src/api/labels.js';
import type { SpecV2, StageV2 } from '../../../../src/api/v2/runbook.js';
import { EngineHarness, runbookOf, spec } from '../../../support/engine-harness.js';
import { MemoryResults } from '../../../support/memory-results.js';

type StageCache = NonNullable<StageV2['cache']>;

/** research -> analyze -> write, each reading the one before, each with this cache. */
function threeStages(cache: StageCache = { maxAge: '24h' }, writeTone = 'plain'): SpecV2 {
  const cached = { cache };
  return spec({
    execution: { mode: 'pipeline', parallelism: 5 },
    stages: [
      { name: 'research', ...cached, config: { inputs: { topic: 'caching' }, parameters: { depth: 2 } } },
      {
        name: 'analyze',
        dependsOn: ['research'],
        ...cached,
        config: { inputs: { facts: '${research.outputs.facts}' } },
      },
      {
        name: 'write',
        dependsOn: ['analyze'],
        ...cached,
        config: { inputs: { summary: '${analyze.outputs.summary}' }, parameters: { tone: writeTone } },
      },
    ],
  });
}

function cachedHarness(specV2: SpecV2, results = new MemoryResults()): EngineHarness {
  const h = new EngineHarness(runbookOf(specV2));
  h.results = results;
  return h;
}

/** Runs the three stages to success, each reporting 100 tokens and $0.05. */
function runAll(h: EngineHarness, stages = ['research', 'analyze', 'write']): void {
  const outputs: Record<string, Record<string, unknown>> = {
    research: { facts: ['a', 'b'] },
    analyze: { summary: 'two facts' },
    write: { text: 'An essay.' },
  };
  h.step();
  for (const stage of stages) {
    h.succeed(stage, outputs[stage], { tokens: 100, costUSD: '0.05' });
    h.step();
  }
}

/** A new generation of the runbook with this spec, as a spec change makes one. */
function changeSpec(h: EngineHarness, next: SpecV2): void {
  const generation = h.runbook.metadata.generation + 1;
  h.runbook = { ...h.runbook, spec: next, metadata: { ...h.runbook.metadata, generation } };
}

describe('stage result caching (engine)', () => {
  it('a rerun after a spec change that touched only the last stage reuses the first two: no Jobs, zero usage, savings shown', () => {
    const h = cachedHarness(threeStages());
    runAll(h);
    expect(h.phase).to.equal('Succeeded');
    expect(h.results?.stored.size).to.equal(3);
    expect(h.stage('research').cache).to.include({ result: 'Miss' });

    changeSpec(h, threeStages({ maxAge: '24h' }, 'formal'));
    const decision = h.step();
    expect(decision.create.map((plan) => plan.stage)).to.deep.equal(['write']);
    for (const name of ['research', 'analyze']) {
      const stage = h.stage(name);
      expect(stage).to.include({ phase: 'Succeeded', reason: 'Cached' });
      expect(stage.usage).to.equal(undefined);
      expect(stage.attempt).to.equal(undefined);
      expect(stage.cache).to.deep.include({
        result: 'Hit',
        saved: { tokens: 100, costUSD: '0.05' },
      });
      expect(stage.cache?.origin).to.include({ runbook: 'rb', execution: 'g1', stage: name });
    }
    expect(h.stage('analyze').outputs).to.deep.equal({ summary: 'two facts' });
    expect(decision.events.filter((event) => event.reason === 'CacheHit')).to.have.length(2);
    expect(h.stage('write').cache).to.include({ result: 'Miss' });
    // The write stage reads the reused summary exactly as the first run's did.
    const plan = decision.create[0];
    expect(JSON.parse(plan?.files.inputs ?? '')).to.deep.equal({ summary: 'two facts' });

    h.succeed('write', { text: 'A formal essay.' }, { tokens: 100, costUSD: '0.05' });
    h.step();
    expect(h.phase).to.equal('Succeeded');
    expect(h.runbook.status?.usage).to.deep.include({ tokens: 100, costUSD: '0.05' });
    expect(h.runbook.status?.metrics).to.deep.include({
      cachedStages: 2,
      tokensSaved: 200,
      costSaved: '0.10',
    });
  });

  it('a cached stage that hits needs no budget: it finishes while the budget has nothing left to grant', () => {
    const results = new MemoryResults();
    runAll(cachedHarness(threeStages(), results));
    const tight = { ...threeStages(), budgets: { tokens: { total: 1 } } } as SpecV2;
    const h = cachedHarness(tight, results);
    h.step();
    expect(h.stage('research')).to.include({ phase: 'Succeeded', reason: 'Cached' });
    expect(h.stage('write')).to.include({ phase: 'Succeeded', reason: 'Cached' });
    expect(h.phase).to.equal('Succeeded');
  });

  it('another runbook in the namespace asking the same reuses the result; a different input misses', () => {
    const results = new MemoryResults();
    runAll(cachedHarness(threeStages(), results));
    const other = cachedHarness(threeStages(), results);
    other.runbook = {
      ...other.runbook,
      metadata: { ...other.runbook.metadata, name: 'other', uid: 'uid-2' },
    };
    other.step();
    expect(other.stage('research').cache?.origin).to.include({ runbook: 'rb' });

    const changed = threeStages();
    const research = changed.agents.pipeline?.[0];
    if (research?.config?.inputs) research.config.inputs.topic = 'something else';
    const third = cachedHarness(changed, results);
    expect(third.step().create.map((plan) => plan.stage)).to.deep.equal(['research']);
    expect(third.stage('research').cache).to.include({ result: 'Miss' });
  });

  it('a result older than the maxAge of the stage that asks, or expired, is not reused', () => {
    const results = new MemoryResults();
    const first = cachedHarness(threeStages({ maxAge: '1h' }), results);
    runAll(first);
    const later = cachedHarness(threeStages({ maxAge: '24h' }), results);
    later.now = new Date(first.now.getTime() + 2 * 3600_000);
    // Stored for 1h: expired for everyone two hours on.
    expect(later.step().create.map((plan) => plan.stage)).to.deep.equal(['research']);

    const fresh = new MemoryResults();
    const stored = cachedHarness(threeStages({ maxAge: '24h' }), fresh);
    runAll(stored);
    const strict = cachedHarness(threeStages({ maxAge: '1m' }), fresh);
    strict.now = new Date(stored.now.getTime() + 10 * 60_000);
    expect(strict.step().create.map((plan) => plan.stage)).to.deep.equal(['research']);
    const lenient = cachedHarness(threeStages({ maxAge: '1h' }), fresh);
    lenient.now = strict.now;
    expect(lenient.step().create).to.deep.equal([]);
  });

  it('does not take on trust a stored result holding more than a status may (one the operator did not write)', () => {
    const results = new MemoryResults();
    runAll(cachedHarness(threeStages(), results));
    for (const store of results.stored.values()) store.spec.outputs = { flood: 'x'.repeat(20_000) };
    const h = cachedHarness(threeStages(), results);
    expect(h.step().create.map((plan) => plan.stage)).to.deep.equal(['research']);
  });

  it('an environment overlay turns caching on or off for the whole runbook', () => {
    const withEnvironments = (environment: string): SpecV2 => ({
      ...spec({ stages: [{ name: 'a' }], execution: { mode: 'pipeline', cache: { maxAge: '1h' } } }),
      environment,
      environments: { production: { execution: { cache: { enabled: false } } }, development: {} },
    });
    const development = cachedHarness(withEnvironments('development'));
    runAll(development, []);
    development.succeed('a');
    development.step();
    expect(development.results?.stored.size).to.equal(1);
    const production = cachedHarness(withEnvironments('production'));
    production.step();
    production.succeed('a');
    production.step();
    expect(production.stage('a').cache).to.equal(undefined);
    expect(production.results?.stored.size).to.equal(0);
  });

  it('a user key or version forces a miss', () => {
    const results = new MemoryResults();
    runAll(cachedHarness(threeStages(), results));
    for (const cache of [{ key: 'week-49' }, { version: '2' }]) {
      const h = cachedHarness(threeStages(cache), results);
      expect(h.step().create.map((plan) => plan.stage)).to.deep.equal(['research']);
    }
  });

  it('stores only succeeded attempts: a failure, a critical finding or a report over the grant is never stored', () => {
    const failing = cachedHarness(threeStages());
    failing.step();
    failing.fail('research', { error: { class: 'CRITICAL_ERROR', message: 'no' } });
    failing.step();
    expect(failing.stage('research').phase).to.equal('Failed');
    expect(failing.results?.stored.size).to.equal(0);

    const overGrant = cachedHarness({ ...threeStages(), budgets: { tokens: { total: 50 } } });
    overGrant.step();
    overGrant.succeed('research', { facts: [] }, { tokens: 500, costUSD: '0' });
    overGrant.step();
    expect(overGrant.stage('research').reason).to.equal('AgentBudgetExceeded');
    expect(overGrant.results?.stored.size).to.equal(0);

    const critical = cachedHarness(
      spec({
        stages: [{ name: 'build', cache: {} }],
        agents: { deployment: { security: { config: { failOnCritical: true } } } },
        execution: { mode: 'pipeline', cache: {} },
      }),
    );
    critical.catalog = {
      agents: [
        { name: 'build', image: 'b' },
        { name: 'security', image: 's' },
      ],
    };
    critical.step();
    critical.succeed('build');
    critical.step();
    critical.succeed('validate-security', { findings: [{ severity: 'critical' }] });
    critical.step();
    expect(critical.stage('validate-security').reason).to.equal('ValidationFailed');
    expect([...(critical.results?.stored.values() ?? [])].map((store) => store.stage)).to.deep.equal([
      'build',
    ]);
  });

  it('an agent with cache: false is never cached, whatever the runbook asks', () => {
    const h = cachedHarness(threeStages());
    h.catalog = {
      agents: [{ name: '*', image: 'x' }].map(() => ({ name: 'research', image: 'x', cache: false })),
    };
    h.catalog.agents.push({ name: 'analyze', image: 'x' }, { name: 'write', image: 'x' });
    runAll(h);
    expect([...(h.results?.stored.values() ?? [])].map((store) => store.stage)).to.deep.equal([
      'analyze',
      'write',
    ]);
    expect(h.stage('research').cache).to.equal(undefined);
  });

  it("reads the specification's words: config.useCache with maxAge, a core agent's cacheEnabled with cacheTTL", () => {
    const words = spec({
      stages: [{ name: 'research', config: { parameters: { useCache: true, maxAge: '2h' } } }],
      agents: { core: { librarian: { config: { cacheEnabled: true, cacheTTL: '1h' } } } },
      workflows: {
        fallback: {
          trigger: { conditions: ['TIMEOUT'] },
          steps: [{ name: 'cached_research', agent: 'librarian' }],
        },
      },
    });
    const h = cachedHarness(words);
    h.catalog = {
      agents: [
        { name: 'research', image: 'r' },
        { name: 'librarian', image: 'l' },
      ],
    };
    h.step();
    // Still handed to the agent as parameters.
    expect(JSON.parse(h.plans.get(h.activeFor('research').name)?.files.parameters ?? '')).to.deep.equal({
      useCache: true,
      maxAge: '2h',
    });
    h.fail(
      'research',
      { error: { class: 'TIMEOUT' } },
      { failureReason: 'DeadlineExceeded', state: 'failed' },
    );
    h.step();
    h.succeed('cached_research', { facts: [] });
    h.step();
    const stored = [...(h.results?.stored.values() ?? [])];
    expect(stored.map((store) => [store.stage, store.spec.maxAge])).to.deep.equal([
      ['cached_research', '1h'],
    ]);
  });

  it('a reused large output is copied into a ConfigMap of the run, from the stored result', () => {
    const results = new MemoryResults();
    const first = cachedHarness(threeStages(), results);
    first.step();
    const big = 'x'.repeat(4000);
    first.succeed('research', { facts: [big] });
    first.step();
    const original = first.stage('research').outputRefs?.facts;
    expect(original?.digest).to.match(/^sha256:/);

    const h = cachedHarness(threeStages(), results);
    const decision = h.step();
    const ref = h.stage('research').outputRefs?.facts;
    expect(ref).to.deep.include({ key: original?.key, bytes: original?.bytes, digest: original?.digest });
    expect(ref?.configMap).to.not.equal(original?.configMap);
    expect(decision.store).to.deep.equal([
      {
        name: ref?.configMap,
        stage: 'research',
        execution: 'g1',
        data: {},
        copyFrom: h.stage('research').cache?.entry,
      },
    ]);
    const stored = results.stored.get(h.stage('research').cache?.entry ?? '');
    expect(stored?.spec.data).to.deep.equal({ facts: JSON.stringify([big]) });
  });

  it('keys by the digest the Pod reported: a tag that moved misses, the same digest hits', () => {
    const results = new MemoryResults();
    const first = cachedHarness(threeStages(), results);
    first.step();
    first.succeed('research', { facts: [] });
    Object.assign(first.jobs.find((job) => job.stage === 'research') ?? {}, {
      imageDigest: `sha256:${'1'.repeat(64)}`,
    });
    first.step();
    const image = first.plans.values().next().value?.image ?? '';
    const stored = [...results.stored.values()][0];
    expect(stored?.spec).to.include({ image, imageDigest: `sha256:${'1'.repeat(64)}` });

    // What the tag pulled last is what the next run expects.
    results.digests.set(image, `sha256:${'1'.repeat(64)}`);
    expect(
      cachedHarness(threeStages(), results)
        .step()
        .create.map((plan) => plan.stage),
    ).to.deep.equal(['analyze']);
    results.digests.set(image, `sha256:${'2'.repeat(64)}`);
    expect(
      cachedHarness(threeStages(), results)
        .step()
        .create.map((plan) => plan.stage),
    ).to.deep.equal(['research']);
  });

  it('a rerun annotation reruns through the cache, and a restart repeats the same store under the same name', () => {
    const h = cachedHarness(threeStages());
    h.step();
    h.succeed('research', { facts: [] });
    const first = h.decideOnly();
    // The status write was lost (a restart): the next reconcile folds the same attempt again.
    const again = h.decideOnly();
    expect(again.cacheStores?.map((store) => store.name)).to.deep.equal(
      first.cacheStores?.map((store) => store.name),
    );
    runAll(h, []);
    h.runbook = {
      ...h.runbook,
      metadata: { ...h.runbook.metadata, annotations: { [ANNOTATION_RERUN]: 'again' } },
    };
    h.step();
    expect(h.stage('research')).to.include({ reason: 'Cached' });
  });

  it('downstream stages see exactly the values they saw on the original run (property)', () => {
    const value = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.integer(),
      fc.boolean(),
      fc.array(fc.string({ maxLength: 20 }), { maxLength: 5 }),
      fc.string({ minLength: 1100, maxLength: 1500 }),
    );
    const outputsArb = fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/), value, {
      minKeys: 1,
      maxKeys: 5,
    });
    fc.assert(
      fc.property(outputsArb, (outputs) => {
        const names = Object.keys(outputs);
        const specV2 = spec({
          execution: { mode: 'pipeline' },
          stages: [
            { name: 'produce', cache: {} },
            {
              name: 'consume',
              dependsOn: ['produce'],
              config: {
                inputs: Object.fromEntries(names.map((name) => [name, `\${produce.outputs.${name}}`])),
              },
            },
          ],
        });
        const results = new MemoryResults();
        const original = cachedHarness(specV2, results);
        original.step();
        original.succeed('produce', outputs);
        const ran = original.step().create[0];
        const reused = cachedHarness(specV2, results).step().create[0];
        expect(reused?.stage).to.equal('consume');
        expect(reused?.files).to.deep.equal(ran?.files);
        const where = (plan: typeof ran) =>
          (plan?.mounts ?? []).map(({ path, key, digest }) => ({ path, key, digest }));
        expect(where(reused)).to.deep.equal(where(ran));
        expect(reused?.env).to.deep.equal(ran?.env);
      }),
      { numRuns: 60 },
    );
  });
});
