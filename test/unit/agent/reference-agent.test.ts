import { expect } from 'chai';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runReferenceAgent } from '../../../src/agent/reference-agent.js';
import { writeReport } from '../../../src/agent/sdk.js';
import { parseReport, checkOutputs } from '../../../src/engine/agent-report.js';

function env(extra: Record<string, string>) {
  const reportPath = join(mkdtempSync(join(tmpdir(), 'agent-test-')), 'report');
  return { reportPath, env: { AGENT_STAGE: 'research', AGENT_REPORT_PATH: reportPath, ...extra } };
}

describe('the reference agent and the agent SDK', () => {
  it('reports every declared output with its declared type, which the engine accepts', async () => {
    const outputs = {
      summary: 'object',
      items: 'array',
      note: 'string',
      score: 'number',
      count: 'integer',
      ok: 'boolean',
    } as const;
    const { reportPath, env: environment } = env({
      AGENT_INPUTS: JSON.stringify({ idea: 'plan the day' }),
      AGENT_OUTPUTS: JSON.stringify(outputs),
    });
    const logged: string[] = [];
    expect(await runReferenceAgent(environment, (line) => logged.push(line))).to.equal(0);
    const parsed = parseReport(readFileSync(reportPath, 'utf8'));
    if (!('report' in parsed)) throw new Error(parsed.problem.message);
    expect(logged.at(-1)).to.match(/outputs summary, items, note, score, count, ok; \d+ tokens$/);
    expect(checkOutputs(outputs, parsed.report.outputs)).to.equal(undefined);
    expect(parsed.report.tokens).to.be.greaterThan(0);
    expect(parsed.report.costMicros).to.equal(parsed.report.tokens * 10);
  });

  it('fails with the error class its parameters name', async () => {
    const { reportPath, env: environment } = env({
      AGENT_PARAMETERS: JSON.stringify({ fail: 'RATE_LIMIT' }),
    });
    expect(await runReferenceAgent(environment)).to.equal(1);
    const parsed = parseReport(readFileSync(reportPath, 'utf8'));
    expect('report' in parsed && parsed.report.error?.class).to.equal('RATE_LIMIT');
  });

  it('refuses to write a report over the 4 KiB termination message limit', () => {
    const { env: environment } = env({});
    expect(() => {
      writeReport({ outputs: { big: 'x'.repeat(5000) } }, environment);
    }).to.throw(/at most 4096/);
  });
});
