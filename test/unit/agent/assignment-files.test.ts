import { expect } from 'chai';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runReferenceAgent } from '../../../src/agent/reference-agent.js';
import { AssignmentError, readAssignment } from '../../../src/agent/sdk.js';
import { writeFiles } from '../../../hack/local-cluster/pod-volumes.js';

function volume(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'assignment-'));
  writeFiles(dir, new Map(Object.entries(files)));
  return dir;
}

describe('the agent SDK reads its assignment from files', () => {
  it('prefers the files to the environment, and reads the outputs they pass from theirs', () => {
    const dir = volume({
      'inputs.json': JSON.stringify({
        report: { $file: 'outputs/research/report' },
        list: [{ $file: 'outputs/research/n' }],
      }),
      'parameters.json': '{"style":"short"}',
      'budget.json': '{"tokens":500}',
      'outputs/research/report': JSON.stringify('r'.repeat(300_000)),
      'outputs/research/n': '42',
    });
    const work = readAssignment({
      AGENT_STAGE: 'write',
      AGENT_FILES_DIR: dir,
      AGENT_INPUTS: '{"stale":true}',
      AGENT_OUTPUTS: '{"draft":"string"}',
    });
    expect(work.inputs).to.deep.equal({ report: 'r'.repeat(300_000), list: [42] });
    expect(work.parameters).to.deep.equal({ style: 'short' });
    expect(work.budget).to.deep.equal({ tokens: 500 });
    expect(work.outputs).to.deep.equal({ draft: 'string' });
  });

  it('falls back to the environment when there are no files', () => {
    const work = readAssignment({
      AGENT_STAGE: 'write',
      AGENT_FILES_DIR: volume({}),
      AGENT_INPUTS: '{"idea":"x"}',
      AGENT_BUDGET: '{"tokens":5}',
      AGENT_WORKSPACES: '{"source":"/workspace/source"}',
    });
    expect(work.inputs).to.deep.equal({ idea: 'x' });
    expect(work.budget).to.deep.equal({ tokens: 5 });
    expect(work.workspaces).to.deep.equal({ source: '/workspace/source' });
  });

  it('refuses a file reference outside its directory, and says which file is missing', () => {
    const escape = volume({ 'inputs.json': JSON.stringify({ secret: { $file: '../../etc/passwd' } }) });
    expect(() => readAssignment({ AGENT_STAGE: 's', AGENT_FILES_DIR: escape }))
      .to.throw(AssignmentError)
      .with.property('message', `input inputs.secret refers to ../../etc/passwd, outside ${escape}`);
    const missing = volume({
      'inputs.json': JSON.stringify({ report: { $file: 'outputs/research/report' } }),
    });
    expect(() => readAssignment({ AGENT_STAGE: 's', AGENT_FILES_DIR: missing })).to.throw(
      AssignmentError,
      /^input inputs\.report is the file .*outputs\/research\/report, which is missing: the ConfigMap of the output it passes was deleted$/,
    );
  });

  it('lets the reference agent report a broken assignment as VALIDATION_ERROR', async () => {
    const dir = volume({ 'inputs.json': '{"report": {"$file": "outputs/gone/x"}}' });
    const reportPath = join(dir, 'termination-log');
    const code = await runReferenceAgent({
      AGENT_STAGE: 's',
      AGENT_FILES_DIR: dir,
      AGENT_REPORT_PATH: reportPath,
    });
    expect(code).to.equal(1);
    const report = JSON.parse(readFileSync(reportPath, 'utf8')) as {
      error: { class: string; message: string };
    };
    expect(report.error.class).to.equal('VALIDATION_ERROR');
    expect(report.error.message).to.match(/outputs\/gone\/x, which is missing/);
  });

  it('makes string outputs exactly outputBytes long as JSON, and logs the size of each input', async () => {
    const dir = volume({
      'inputs.json': JSON.stringify({ idea: 'plan' }),
      'parameters.json': '{"outputBytes":5000}',
    });
    const reportPath = join(dir, 'termination-log');
    const logged: string[] = [];
    let line = '';
    const code = await runReferenceAgent(
      {
        AGENT_STAGE: 's',
        AGENT_FILES_DIR: dir,
        AGENT_REPORT_PATH: reportPath,
        AGENT_OUTPUTS: '{"text":"string"}',
      },
      (text) => logged.push(text),
      (text) => (line = text),
    );
    expect(code).to.equal(0);
    expect(logged[0]).to.equal('stage s: inputs idea (6 bytes)');
    const report = JSON.parse(line.split(' ').slice(3).join(' ')) as { outputs: { text: string } };
    expect(Buffer.byteLength(JSON.stringify(report.outputs.text))).to.equal(5000);
  });
});
