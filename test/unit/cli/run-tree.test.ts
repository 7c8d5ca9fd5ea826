import { expect } from 'chai';
import { renderRunTree } from '../../../src/cli/run-tree.js';
import type { AgentRunbookJson } from '../../../src/kube/types.js';
import { EngineHarness, runbookOf, spec } from '../../support/engine-harness.js';

describe('agentrunbook get: the run tree', () => {
  it('shows a skipped stage with its condition, and a forEach stage with its running items under it', () => {
    const h = new EngineHarness(
      runbookOf(
        spec({
          execution: { mode: 'hybrid', parallelism: 2 },
          stages: [
            { name: 'research' },
            { name: 'review', when: 'outputs.research.risk > 5' },
            { name: 'analyze', forEach: '${research.outputs.names}', config: { inputs: { n: '${item}' } } },
          ],
        }),
      ),
    );
    h.step();
    h.succeed('research', { risk: 1, names: ['a', 'b', 'c'] });
    h.step();
    h.succeed('analyze[0]');
    h.step();
    const text = renderRunTree(h.runbook, h.now);
    const lines = text.split('\n');
    const row = (name: string) => lines.find((line) => line.includes(` ${name} `)) ?? '';
    expect(row('review')).to.match(/○ review\s+Skipped\s+-.*when outputs\.research\.risk > 5 is false/);
    expect(row('analyze')).to.match(/└─ ● analyze\s+Running\s+1\/3 items/);
    expect(row('analyze[1]')).to.match(/^\s+├─ ● analyze\[1\]\s+Running\s+1/);
    expect(row('analyze[2]')).to.match(/^\s+└─ ● analyze\[2\]\s+Running\s+1/);
    expect(text).to.match(/Phase:\s+Running\s+\(2\/3 stages\)/);
  });

  it("shows a child runbook's stages under the stage that runs it", () => {
    const parent = {
      metadata: { name: 'host', namespace: 'ns', uid: 'u' },
      spec: { version: '1.0.0', agents: { pipeline: [{ name: 'sub', runbook: { name: 'lib' } }] } },
      status: {
        phase: 'Running',
        stages: [{ name: 'sub', phase: 'Running', attempt: 1, child: 'host-sub-1' }],
      },
    } as AgentRunbookJson;
    const child = {
      metadata: { name: 'host-sub-1', namespace: 'ns' },
      spec: { version: '1.0.0', agents: {} },
      status: {
        stages: [
          { name: 'outline', phase: 'Succeeded', attempt: 1 },
          { name: 'draft', phase: 'Running', attempt: 2 },
        ],
      },
    } as AgentRunbookJson;
    const lines = renderRunTree(parent, new Date(), [child]).split('\n');
    expect(lines.find((line) => line.includes('outline'))).to.match(/^ {3}├─ ✔ outline\s+Succeeded\s+1/);
    expect(lines.find((line) => line.includes('draft'))).to.match(/^ {3}└─ ● draft\s+Running\s+2/);
  });
});
