import { expect } from 'chai';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PodResult } from '../../hack/local-cluster/fake-node.js';
import type { AgentCatalog } from '../../src/api/catalog.js';
import { ENV } from '../../src/api/agent-contract.js';
import { writeReport } from '../../src/agent/sdk.js';
import { RunbookEnv, runbook } from '../support/runbook-env.js';
import { succeed } from '../support/scripted-agents.js';

const CATALOG: AgentCatalog = {
  agents: ['writer', 'reader'].map((name) => ({ name, image: `registry.example/agents/${name}:1.0.0` })),
};

/** What a container running the SDK leaves behind: its termination message and its log. */
function agentResult(outputs: Record<string, unknown>, chatter = 'agent: thinking hard'): PodResult {
  const reportPath = join(mkdtempSync(join(tmpdir(), 'large-report-')), 'termination-log');
  const lines: string[] = [chatter];
  writeReport({ outputs, usage: { tokens: 5, costUSD: '0.01' } }, { [ENV.reportPath]: reportPath }, (line) =>
    lines.push(line),
  );
  return {
    phase: 'Succeeded',
    message: readFileSync(reportPath, 'utf8'),
    logs: `${lines.join('\n')}\nagent: done\n`,
  };
}

describe('reports larger than the termination message, read from the agent log through the API server', function () {
  this.timeout(180_000);
  const env = new RunbookEnv('large', CATALOG);
  before(() => env.start());
  after(() => env.stop());

  it('a 200 KiB output flows from one stage to the next', async () => {
    const answer = 'a'.repeat(200 * 1024);
    env.script = (call) => (call.stage === 'write' ? agentResult({ answer }) : succeed({ length: 1 }));
    await env.apply(
      runbook('large', 'pipeline', [
        { name: 'write', agent: 'writer', config: { outputs: { answer: 'string' } } },
        { name: 'read', agent: 'reader', config: { inputs: { text: '${write.outputs.answer}' } } },
      ]),
    );
    await env.waitPhase('large', 'Succeeded');
    const read = env.calls.find((call) => call.namespace === env.namespace && call.stage === 'read');
    expect(read?.inputs.text).to.equal(answer);
    const status = await env.status('large');
    // Usage comes from the termination message: 5 tokens from the writer, 100 from the reader.
    expect(status.usage).to.deep.equal({ tokens: 105, costUSD: '0.02' });
  });

  it('finds the report after 6 MiB of chatter on one line, which it skips without keeping', async () => {
    const answer = 'f'.repeat(8 * 1024);
    env.script = () => agentResult({ answer }, 'z'.repeat(6 * 1024 * 1024));
    await env.apply(
      runbook('chatty', 'pipeline', [
        { name: 'write', agent: 'writer', config: { outputs: { answer: 'string' } } },
      ]),
    );
    await env.waitPhase('chatty', 'Succeeded');
    const status = (await env.status('chatty')) as { stages: { outputs?: Record<string, unknown> }[] };
    expect(status.stages[0]?.outputs).to.deep.equal({ answer });
  });

  it('a report over the limit fails its stage, naming its size and the limit', async () => {
    env.script = () => agentResult({ answer: 'b'.repeat(300 * 1024) });
    await env.apply(runbook('too-large', 'pipeline', [{ name: 'write', agent: 'writer' }]));
    await env.waitPhase('too-large', 'Failed');
    const status = (await env.status('too-large')) as {
      usage?: unknown;
      stages: { reason?: string; message?: string }[];
    };
    expect(status.stages[0]).to.deep.include({ reason: 'ReportTooLarge' });
    // Usage comes from the termination message, so it counts even when the outputs cannot.
    expect(status.usage).to.deep.equal({ tokens: 5, costUSD: '0.01' });
    expect(status.stages[0]?.message).to.match(
      /the agent's report is 30\d{4} bytes, over the limit of 262144 bytes/,
    );
  });
});
