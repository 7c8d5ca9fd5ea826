import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parseReport } from '../../../src/engine/stage/agent-report.js';
import { repoRoot } from '../../../hack/local-cluster/paths.js';

/** Runs Python with the SDK on its path; returns what it printed and the termination message it wrote. */
function python(script: string): { stdout: string; message: string } {
  const dir = mkdtempSync(join(tmpdir(), 'python-sdk-'));
  const reportPath = join(dir, 'termination-log');
  const stdout = execFileSync('python3', ['-c', script], {
    encoding: 'utf8',
    env: { ...process.env, PYTHONPATH: join(repoRoot, 'sdk', 'python'), AGENT_REPORT_PATH: reportPath },
    maxBuffer: 8 * 1024 * 1024,
  });
  return { stdout, message: readFileSync(reportPath, 'utf8') };
}

describe('the Python SDK speaks the contract the operator reads', () => {
  it('a small report: the operator reads outputs, usage and resources from the termination message', () => {
    const { message } = python(
      'from agentrunbook import write_report\nwrite_report({"outputs": {"n": 3}, "usage": {"tokens": 12, "costUSD": "0.02"}})',
    );
    const parsed = parseReport(message);
    expect(parsed.problem).to.equal(undefined);
    if (!('report' in parsed)) throw new Error('no report');
    expect(parsed.report.outputs).to.deep.equal({ n: 3 });
    expect(parsed.report.tokens).to.equal(12);
  });

  it('a 300 KiB report: the operator checks its log line (size, sha256) and keeps usage from the message', () => {
    const { stdout, message } = python(
      'from agentrunbook import write_report\nwrite_report({"outputs": {"answer": "ü" * 150 * 1024}, "usage": {"tokens": 5}})',
    );
    const line = stdout.trim();
    const parsed = parseReport(message, { line });
    expect(parsed.problem).to.equal(undefined);
    if (!('report' in parsed)) throw new Error('no report');
    expect((parsed.report.outputs.answer as string).length).to.equal(150 * 1024);
    expect(parsed.report.tokens).to.equal(5);
    const tampered = parseReport(message, { line: line.replace('üü', 'uu') });
    expect(tampered.problem?.reason).to.match(/^ReportLog/);
  });
});
