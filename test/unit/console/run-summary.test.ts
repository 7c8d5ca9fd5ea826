import { expect } from 'chai';
import { budgetBars, runGraph, runSummary } from '../../../src/console/run-summary.js';
import type { SpecV2 } from '../../../src/api/v2/runbook.js';
import type { AgentRunbookJson } from '../../../src/kube/types.js';

const spec = {
  version: '1.0.0',
  execution: { mode: 'parallel' },
  agents: {
    pipeline: [
      { name: 'research', agent: 'r' },
      { name: 'draft', agent: 'w', config: { inputs: { notes: '${research.outputs.notes}' } } },
      { name: 'review', agent: 'v', dependsOn: ['draft'] },
    ],
  },
  budgets: { tokens: { total: 1000 }, cost: { maxUSD: '2.00' } },
} as unknown as SpecV2;

describe('the console: what the run page draws', () => {
  it('links stages by dependsOn and by the outputs their inputs use', () => {
    const graph = runGraph(spec);
    expect(graph.nodes.map((node) => node.name)).to.deep.equal(['research', 'draft', 'review']);
    expect(graph.edges).to.deep.include({ from: 'research', to: 'draft', kind: 'needs' });
    expect(graph.edges).to.deep.include({ from: 'draft', to: 'review', kind: 'needs' });
  });

  it('makes budget bars from the budgets and the usage, the clock stopped while a gate waits', () => {
    const runbook = {
      metadata: { name: 'r' },
      spec,
      status: {
        usage: { tokens: 250, costUSD: '0.50' },
        startTime: '2026-12-06T00:00:00Z',
        clock: { limit: '10m', pausedSeconds: 60 },
      },
    } as unknown as AgentRunbookJson;
    const bars = budgetBars(runbook, spec, new Date('2026-12-06T00:05:00Z'));
    expect(bars).to.deep.equal([
      { name: 'tokens', used: 250, limit: 1000 },
      { name: 'cost', used: 0.5, limit: 2 },
      { name: 'time', used: 240, limit: 600 },
    ]);
  });

  it('draws an empty graph rather than failing on a spec it cannot read', () => {
    const broken = { metadata: { name: 'x' }, spec: { agents: 7 } } as unknown as AgentRunbookJson;
    expect(runSummary(broken, new Date())).to.deep.equal({ graph: { nodes: [], edges: [] }, budgets: [] });
  });
});
