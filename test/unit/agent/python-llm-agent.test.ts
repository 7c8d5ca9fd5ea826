import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPORT_LINE_PREFIX } from '../../../src/api/agent-contract.js';
import { parseReport } from '../../../src/engine/stage/agent-report.js';
import { describeLlmAgent } from '../../support/llm-agent-contract.js';
import { agentPython, PYTHON_AGENT_ENV, PYTHON_LLM_AGENT } from '../../support/python-agents.js';

/** The Python agent as its container runs it: a process, its report line on stdout, its log on stderr. */
async function runPythonAgent(given: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'python-llm-agent-'));
  const env = {
    ...PYTHON_AGENT_ENV,
    PATH: process.env.PATH ?? '',
    AGENT_FILES_DIR: join(dir, 'none'),
    AGENT_REPORT_PATH: join(dir, 'termination-log'),
    ...given,
  };
  const child = spawn(agentPython(), [PYTHON_LLM_AGENT], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const line = stdout.split('\n').find((text) => text.startsWith(`${REPORT_LINE_PREFIX} `));
  const parsed = parseReport(
    readFileSync(env.AGENT_REPORT_PATH, 'utf8'),
    line === undefined ? undefined : { line },
  );
  return { code, parsed, log: stderr };
}

describeLlmAgent(
  'the reference Python LLM agent (openai client) against a local OpenAI-compatible endpoint',
  runPythonAgent,
  agentPython,
);
