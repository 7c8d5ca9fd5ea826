import { expect } from 'chai';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildMessages, runLlmAgent } from '../../../src/agent/llm-agent.js';
import { readAssignment } from '../../../src/agent/sdk.js';
import { parseReport } from '../../../src/engine/stage/agent-report.js';
import { describeLlmAgent, PRICE } from '../../support/llm-agent-contract.js';
import { completion, OpenAiServer } from '../../support/openai-server.js';

/** The TypeScript agent, in-process: its log and report line as its container would print them. */
async function runTypeScriptAgent(given: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'llm-agent-'));
  const env = {
    AGENT_FILES_DIR: join(dir, 'none'),
    AGENT_REPORT_PATH: join(dir, 'termination-log'),
    ...given,
  };
  const log: string[] = [];
  let reportLine: string | undefined;
  const code = await runLlmAgent(
    env,
    (line) => log.push(line),
    (line) => (reportLine = line),
  );
  const parsed = parseReport(
    readFileSync(env.AGENT_REPORT_PATH, 'utf8'),
    reportLine === undefined ? undefined : { line: reportLine },
  );
  return { code, parsed, log: log.join('\n') };
}

describeLlmAgent('the reference LLM agent against a local OpenAI-compatible endpoint', runTypeScriptAgent);

describe('the reference LLM agent: what only the TypeScript one does', function () {
  this.timeout(20_000);
  const server = new OpenAiServer();
  let baseURL = '';
  before(async () => {
    baseURL = await server.start();
  });
  after(() => server.stop());

  it('stops reading an answer over 8 MiB, with API_ERROR', async () => {
    server.reply = () => completion('x'.repeat(9 * 1024 * 1024));
    const { code, parsed } = await runTypeScriptAgent({
      AGENT_STAGE: 'research',
      AGENT_OUTPUTS: JSON.stringify({ report: 'string' }),
      AGENT_LLM: JSON.stringify({ baseURL, model: 'gpt-test', price: PRICE }),
    });
    expect(code).to.equal(1);
    expect('report' in parsed && parsed.report.error).to.deep.equal({
      class: 'API_ERROR',
      message: 'the endpoint answered more than 8388608 bytes',
    });
  });

  it('builds the messages from the assignment the SDK reads', () => {
    const work = readAssignment({
      AGENT_STAGE: 's',
      AGENT_FILES_DIR: '/nonexistent',
      AGENT_PARAMETERS: '{"systemPrompt":"Be brief."}',
    });
    expect(buildMessages(work)[0]).to.deep.equal({ role: 'system', content: 'Be brief.' });
  });
});
