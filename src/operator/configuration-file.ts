/** Loads the agent catalog (operator configuration) from a YAML or JSON file and checks it. */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { schemaAjv } from '../api/ajv.js';
import { AgentCatalog } from '../api/catalog.js';
import { agentProblems } from '../api/agent-checks.js';

const validate = schemaAjv().compile<AgentCatalog>(AgentCatalog);

export function parseCatalog(text: string, source: string): AgentCatalog {
  const parsed: unknown = parse(text);
  if (!validate(parsed)) {
    const problems = (validate.errors ?? [])
      .map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`)
      .join('; ');
    throw new Error(`agent catalog ${source} is invalid: ${problems}`);
  }
  const problems = parsed.agents.flatMap((entry, index) => agentProblems(entry, `agents[${index}]`));
  if (problems.length) {
    throw new Error(
      `agent catalog ${source}: ${problems.map((problem) => `${problem.field} ${problem.message}`).join('; ')}`,
    );
  }
  return parsed;
}

export function loadCatalog(path: string): AgentCatalog {
  return parseCatalog(readFileSync(path, 'utf8'), path);
}
