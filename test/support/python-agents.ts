/** The Python agents' interpreter (hack/python-env.sh: pinned openai client) and how to run one. */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../../hack/local-cluster/paths.js';

let python: string | undefined;

/** The virtual environment's python, made once per version of the requirements. */
export function agentPython(): string {
  python ??= execFileSync('bash', [join(repoRoot, 'hack', 'python-env.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  return python;
}

export const PYTHON_LLM_AGENT = join(repoRoot, 'agents', 'python-llm', 'llm_agent.py');

/** The environment a Python agent needs besides its assignment: the SDK on its path. */
export const PYTHON_AGENT_ENV = { PYTHONPATH: join(repoRoot, 'sdk', 'python'), PYTHONDONTWRITEBYTECODE: '1' };
