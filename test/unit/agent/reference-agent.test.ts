import { expect } from 'chai';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runReferenceAgent } from '../../../src/agent/reference-agent.js';
import { writeReport } from '../../../src/agent/sdk.js';
import { parseReport, checkOutputs } from '../../../src/engine/stage/agent-report.js';

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

  it('puts a report over 4 KiB in its log, and the operator reads its outputs from there', () => {
    const { env: environment, reportPath } = env({});
    const lines: string[] = [];
    const big = 'x'.repeat(100_000);
    writeReport({ outputs: { big }, usage: { tokens: 7, costUSD: '0.01' } }, environment, (line) =>
      lines.push(line),
    );
    const message = readFileSync(reportPath, 'utf8');
    expect(Buffer.byteLength(message)).to.be.below(4096);
    expect(message).to.contain('"reportInLog"').and.not.contain('xxxx');
    const [line = ''] = lines;
    const parsed = parseReport(message, { line });
    expect('report' in parsed && parsed.report.outputs.big).to.equal(big);
    expect('report' in parsed && parsed.report.tokens).to.equal(7);
  });

  it('fails a report in the log that is missing, altered, unreadable or over the limit, saying which', () => {
    const { env: environment, reportPath } = env({});
    const lines: string[] = [];
    writeReport({ outputs: { big: 'y'.repeat(10_000) } }, environment, (line) => lines.push(line));
    const message = readFileSync(reportPath, 'utf8');
    const reason = (log?: Parameters<typeof parseReport>[1], text = message) => {
      const parsed = parseReport(text, log);
      return parsed.problem?.reason ?? 'ok';
    };
    const [line = ''] = lines;
    expect(reason({ line })).to.equal('ok');
    expect(reason(undefined)).to.equal('ReportLogMissing');
    expect(reason({ error: 'Pod x is gone' })).to.equal('ReportLogUnreadable');
    expect(reason({ line: line.replace('yyy', 'yyz') })).to.equal('ReportLogCorrupt');
    expect(reason({ line: 'something else' })).to.equal('ReportLogMissing');
    const oversized = JSON.stringify({ reportInLog: { bytes: 10 * 1024 * 1024, sha256: 'a'.repeat(64) } });
    const problem = parseReport(oversized, { line });
    // The termination message's usage survives a report whose outputs cannot be read.
    expect('report' in problem && problem.report.tokens).to.equal(0);
    const withUsage = JSON.stringify({
      usage: { tokens: 9 },
      reportInLog: { bytes: 1, sha256: 'b'.repeat(64) },
    });
    const kept = parseReport(withUsage, undefined);
    expect('report' in kept && kept.report.tokens).to.equal(9);
    expect(kept.problem?.reason).to.equal('ReportLogMissing');
    expect('problem' in problem && problem.problem).to.deep.equal({
      reason: 'ReportTooLarge',
      message:
        "the agent's report is 10485760 bytes, over the limit of 1114112 bytes (1048576 for outputs, 65536 for the rest)",
    });
  });
});
