import { expect } from 'chai';
import { ENV } from '../../../../src/api/agent-contract.js';
import type { AgentCatalog } from '../../../../src/api/catalog.js';
import type { SpecV2 } from '../../../../src/api/v2/runbook.js';
import { loadCatalog } from '../../../../src/operator/configuration-file.js';
import { repoRoot } from '../../../../hack/local-cluster/paths.js';
import { EngineHarness, runbookOf, spec } from '../../../support/engine-harness.js';
import { loadExample } from '../../../support/runbooks.js';
import { join } from 'node:path';

const CATALOG: AgentCatalog = {
  agents: [
    {
      name: 'researcher',
      image: 'ghcr.io/i2s-studio/agentrunbook-llm-agent:0.1.0',
      llm: { baseURL: 'https://llm.example/v1', model: 'small' },
      secretEnv: { LLM_API_KEY: { secret: 'llm', key: 'api-key' } },
    },
  ],
  prices: {
    small: { inputPerMillionTokens: '0.15', outputPerMillionTokens: '0.60' },
    large: { inputPerMillionTokens: '2.50', outputPerMillionTokens: '10.00' },
  },
};

const harness = (parameters: Record<string, unknown> = {}) =>
  new EngineHarness(
    runbookOf(spec({ stages: [{ name: 'research', agent: 'researcher', config: { parameters } }] })),
    CATALOG,
  );

describe('what an LLM agent is told from the catalog', () => {
  it('passes the endpoint, the model and its price, and the API key from its Secret', () => {
    const plan = harness().step().create[0];
    expect(JSON.parse(plan?.env[ENV.llm] ?? '')).to.deep.equal({
      baseURL: 'https://llm.example/v1',
      model: 'small',
      price: { inputPerMillionTokens: '0.15', outputPerMillionTokens: '0.60' },
    });
    expect(plan?.secretEnv).to.deep.equal([{ name: 'LLM_API_KEY', secret: 'llm', key: 'api-key' }]);
  });

  it('prices the model the stage asks for', () => {
    const plan = harness({ model: 'large' }).step().create[0];
    expect(JSON.parse(plan?.env[ENV.llm] ?? '')).to.deep.include({
      model: 'large',
      price: CATALOG.prices?.large,
    });
  });

  it('fails a stage whose model has no price, since its cost could not count', () => {
    const h = harness({ model: 'unpriced' });
    expect(h.step().create).to.deep.equal([]);
    expect(h.stage('research')).to.deep.include({
      phase: 'Failed',
      reason: 'ModelPriceMissing',
      message:
        "agent researcher would call model unpriced, which neither the agent nor the operator's catalog has a price for (prices.unpriced)",
    });
  });

  it('runs examples/llm/ with the sample catalog config/samples/llm-operator-config.yaml', () => {
    const catalog = loadCatalog(join(repoRoot, 'config', 'samples', 'llm-operator-config.yaml'));
    const example = loadExample('llm/market-research.yaml') as { spec: SpecV2 };
    const h = new EngineHarness(runbookOf(example.spec), catalog);
    const plan = h.step().create[0];
    expect(plan?.image).to.equal('ghcr.io/i2s-studio/agentrunbook-llm-agent:0.1.0');
    expect(JSON.parse(plan?.env[ENV.llm] ?? '')).to.deep.include({ model: 'gpt-4o-mini' });
    expect(JSON.parse(plan?.env[ENV.budget] ?? '')).to.deep.include({ tokens: 30000 });
  });
});
