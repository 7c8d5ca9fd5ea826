/** Loads the agent catalog (operator configuration) from a YAML or JSON file and checks it. */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { schemaAjv } from '../api/ajv.js';
import { AgentCatalog } from '../api/catalog.js';
import semver from 'semver';

const validate = schemaAjv().compile<AgentCatalog>(AgentCatalog);

export function parseCatalog(text: string, source: string): AgentCatalog {
  const parsed: unknown = parse(text);
  if (!validate(parsed)) {
    const problems = (validate.errors ?? [])
      .map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`)
      .join('; ');
    throw new Error(`agent catalog ${source} is invalid: ${problems}`);
  }
  for (const [index, entry] of parsed.agents.entries()) {
    if (entry.versions !== undefined && semver.validRange(entry.versions) === null) {
      throw new Error(
        `agent catalog ${source}: agents[${index}].versions is not a semver range: ${entry.versions}`,
      );
    }
  }
  return parsed;
}

export function loadCatalog(path: string): AgentCatalog {
  return parseCatalog(readFileSync(path, 'utf8'), path);
}
