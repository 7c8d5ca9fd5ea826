import semver from 'semver';
import type { AgentCatalog, CatalogEntry } from '../api/catalog.js';

/** The first catalog entry for the agent whose version range admits the requested version. */
export function resolveAgent(
  catalog: AgentCatalog,
  name: string,
  version: string | undefined,
): CatalogEntry | undefined {
  return catalog.agents.find(
    (entry) =>
      entry.name === name &&
      (version === undefined || entry.versions === undefined || semver.satisfies(version, entry.versions)),
  );
}

export function describeCatalogMiss(
  catalog: AgentCatalog,
  name: string,
  version: string | undefined,
): string {
  const sameName = catalog.agents.filter((entry) => entry.name === name);
  if (sameName.length === 0) return `the agent catalog has no agent named ${name}`;
  const ranges = sameName.map((entry) => entry.versions ?? '*').join(', ');
  return `the agent catalog has ${name} for versions ${ranges}, none of which admits ${version ?? 'any version'}`;
}
