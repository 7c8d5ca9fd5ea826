import { expect } from 'chai';
import type { SpecV2 } from '../../../src/api/v2/runbook.js';
import { uncacheableAgentProblems, cacheWordProblems } from '../../../src/webhook/cache-checks.js';

const spec = (extra: Partial<SpecV2['agents']> = {}, stages: SpecV2['agents']['pipeline'] = []): SpecV2 => ({
  version: '1.0.0',
  agents: { ...extra, pipeline: stages },
});

/** The API as the webhook reads it: these Agents and ClusterAgents, by path. */
function objects(found: Record<string, object>) {
  const asked: string[] = [];
  const read = (path: string) => {
    asked.push(path);
    return Promise.resolve(found[path] as never);
  };
  return { read, asked };
}

describe('admission of stage result caching', () => {
  it('refuses a stage that asks to cache an agent marked cache: false, naming the field, wherever it asks', async () => {
    const { read } = objects({
      '/apis/i2s.studio/v2/namespaces/team/agents/live': { spec: { image: 'x', cache: false } },
    });
    const asking = spec({ core: { live: { config: { cacheEnabled: true } } } }, [
      { name: 'a', agent: 'live', cache: { maxAge: '1h' } },
      { name: 'b', agent: 'live', cache: { enabled: false } },
      { name: 'c', agent: 'live', config: { parameters: { useCache: true } } },
    ]);
    const problems = await uncacheableAgentProblems(asking, 'team', read, []);
    expect(problems.map((problem) => problem.field)).to.deep.equal([
      'spec.agents.pipeline[0].cache',
      'spec.agents.pipeline[2].config.parameters.useCache',
      'spec.agents.core.live.config.cacheEnabled',
    ]);
    expect(problems[0]?.message).to.equal(
      'agent live is marked cache: false (its results are never reused): this stage cannot be cached; remove the setting',
    );
  });

  it('resolves agents as the operator does: an Agent before a ClusterAgent before the catalog, by version', async () => {
    const stages = [{ name: 'a', agent: 'research', version: '2.0.0', cache: {} }];
    const catalog = [
      { name: 'research', versions: '<2.0.0' },
      { name: 'research', versions: '>=2.0.0', cache: false },
    ];
    const none = objects({});
    expect(await uncacheableAgentProblems(spec({}, stages), 'team', none.read, catalog)).to.have.length(1);
    expect(none.asked).to.deep.equal([
      '/apis/i2s.studio/v2/namespaces/team/agents/research',
      '/apis/i2s.studio/v2/clusteragents/research',
    ]);
    const shadowed = objects({ '/apis/i2s.studio/v2/clusteragents/research': { spec: { image: 'x' } } });
    expect(await uncacheableAgentProblems(spec({}, stages), 'team', shadowed.read, catalog)).to.deep.equal(
      [],
    );
  });

  it('reads nothing for a runbook that caches nothing, and lets spec.execution.cache skip refusing agents', async () => {
    const { read, asked } = objects({});
    const all = { ...spec({}, [{ name: 'a' }]), execution: { cache: { maxAge: '1h' } } };
    expect(await uncacheableAgentProblems(all, 'team', read, [{ name: 'a', cache: false }])).to.deep.equal(
      [],
    );
    expect(asked).to.deep.equal([]);
  });

  it('refuses cache words the operator cannot read: a switch that is not true or false, an age that is not a duration', () => {
    const words = spec({ deployment: { security: { config: { useCache: true, cacheTTL: '0s' } } } }, [
      { name: 'a', config: { parameters: { useCache: 'yes' } } },
    ]);
    expect(cacheWordProblems(words).map((problem) => problem.field)).to.deep.equal([
      'spec.agents.pipeline[0].config.parameters.useCache',
      'spec.agents.deployment.security.config.cacheTTL',
    ]);
    // Without a switch that is on, maxAge is the agent's own parameter.
    expect(
      cacheWordProblems(spec({}, [{ name: 'a', config: { parameters: { maxAge: 'forever' } } }])),
    ).to.deep.equal([]);
  });
});
