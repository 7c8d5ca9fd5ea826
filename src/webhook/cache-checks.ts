/**
 * What admission checks of stage result caching beyond the schema: the specification's words for
 * it in parameters (useCache or cacheEnabled, with maxAge or cacheTTL) must say something the
 * operator can read, and a stage may not ask to cache an agent whose results must never be reused
 * (cache: false on the Agent, ClusterAgent or catalog entry it resolves to).
 */
import type { CatalogEntry } from '../api/catalog.js';
import { isAcceptedDuration, parseDurationMs, MAX_DURATION_TEXT } from '../api/grammar.js';
import { AGENT_KINDS, GROUP, STORAGE_VERSION } from '../api/group.js';
import { isObject } from '../api/json.js';
import type { SpecV2 } from '../api/v2/runbook.js';
import { resolveAgent } from '../engine/spec/catalog.js';
import { CACHE_AGE_PARAMETERS, CACHE_SWITCH_PARAMETERS } from '../engine/spec/cache-settings.js';
import type { Read } from './gate-decisions.js';

interface FieldProblem {
  field: string;
  message: string;
}

/** A catalog entry as admission needs it: which agent and versions, and whether it may be cached. */
export type CatalogAgentRef = Pick<CatalogEntry, 'name' | 'versions' | 'cache'>;

/** Where a runbook asks to cache a stage, and the agent and version that stage runs. */
interface CacheRequest {
  field: string;
  agent: string;
  version?: string;
}

/** Every place a spec gives parameters to an agent, with its field and the agent and version it runs. */
function parameterSources(spec: SpecV2) {
  const pipeline = spec.agents.pipeline ?? [];
  const runs = (agent: string) => {
    const stage = pipeline.find((candidate) => candidate.name === agent);
    const core = spec.agents.core?.[agent];
    return stage
      ? { agent: stage.agent ?? stage.name, ...(stage.version ? { version: stage.version } : {}) }
      : { agent, ...(core?.version ? { version: core.version } : {}) };
  };
  return [
    ...pipeline.map((stage, index) => ({
      field: `spec.agents.pipeline[${index}].config.parameters`,
      parameters: stage.config?.parameters,
      ...runs(stage.name),
    })),
    ...Object.entries(spec.agents.core ?? {}).map(([name, core]) => ({
      field: `spec.agents.core.${name}.config`,
      parameters: core.config,
      ...runs(name),
    })),
    ...Object.entries(spec.agents.deployment ?? {}).map(([name, agent]) => ({
      field: `spec.agents.deployment.${name}.config`,
      parameters: agent.config,
      agent: name,
      ...(agent.version ? { version: agent.version } : {}),
    })),
    ...(['main', 'fallback', 'emergency'] as const).flatMap((workflow) =>
      (spec.workflows?.[workflow]?.steps ?? []).map((step, index) => ({
        field: `spec.workflows.${workflow}.steps[${index}].config`,
        parameters: step.config,
        ...runs(step.agent ?? step.name),
      })),
    ),
  ];
}

/** The specification's cache words must be a boolean switch and a duration the cache accepts. */
export function cacheWordProblems(spec: SpecV2): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const { field, parameters } of parameterSources(spec)) {
    if (!isObject(parameters)) continue;
    for (const name of CACHE_SWITCH_PARAMETERS) {
      const value = parameters[name];
      if (value !== undefined && typeof value !== 'boolean')
        problems.push({
          field: `${field}.${name}`,
          message: `is read as whether the stage's result is cached: it must be true or false (got ${JSON.stringify(value).slice(0, 64)})`,
        });
    }
    if (!CACHE_SWITCH_PARAMETERS.some((name) => parameters[name] === true)) continue;
    for (const name of CACHE_AGE_PARAMETERS) {
      const value = parameters[name];
      if (value === undefined) continue;
      const accepted = typeof value === 'string' && isAcceptedDuration(value) && parseDurationMs(value) > 0;
      if (!accepted)
        problems.push({
          field: `${field}.${name}`,
          message: `is read as how old a reused result may be: it must be a duration longer than 0s and at most ${MAX_DURATION_TEXT}, such as 1h or 24h (got ${JSON.stringify(value).slice(0, 64)})`,
        });
    }
  }
  return problems;
}

/** The stages that ask to be cached themselves (spec.execution.cache skips agents that refuse it). */
function cacheRequests(spec: SpecV2): CacheRequest[] {
  const own = (spec.agents.pipeline ?? []).flatMap((stage, index): CacheRequest[] =>
    stage.cache && stage.cache.enabled !== false
      ? [
          {
            field: `spec.agents.pipeline[${index}].cache`,
            agent: stage.agent ?? stage.name,
            ...(stage.version ? { version: stage.version } : {}),
          },
        ]
      : [],
  );
  const worded = parameterSources(spec).flatMap(({ field, parameters, agent, version }): CacheRequest[] => {
    if (!isObject(parameters)) return [];
    const name = CACHE_SWITCH_PARAMETERS.find((candidate) => parameters[candidate] === true);
    return name ? [{ field: `${field}.${name}`, agent, ...(version ? { version } : {}) }] : [];
  });
  return [...own, ...worded];
}

const agentPath = (kind: 'namespaced' | 'cluster', name: string, namespace: string) =>
  kind === 'namespaced'
    ? `/apis/${GROUP}/${STORAGE_VERSION}/namespaces/${namespace}/${AGENT_KINDS.namespaced.plural}/${name}`
    : `/apis/${GROUP}/${STORAGE_VERSION}/${AGENT_KINDS.cluster.plural}/${name}`;

/** The Agent or ClusterAgent of that name, as a catalog entry; undefined when there is none. */
async function agentObject(read: Read, path: string, name: string): Promise<CatalogAgentRef | undefined> {
  const object = await read(path);
  const spec = isObject(object) && isObject(object.spec) ? object.spec : undefined;
  if (!spec) return undefined;
  return {
    name,
    ...(typeof spec.versions === 'string' ? { versions: spec.versions } : {}),
    ...(typeof spec.cache === 'boolean' ? { cache: spec.cache } : {}),
  };
}

/** Stages that ask to cache an agent marked cache: false, resolved as the operator resolves agents. */
export async function uncacheableAgentProblems(
  spec: SpecV2,
  namespace: string,
  read: Read,
  catalogAgents: readonly CatalogAgentRef[],
): Promise<FieldProblem[]> {
  const requests = cacheRequests(spec);
  const problems: FieldProblem[] = [];
  const candidates = new Map<string, CatalogAgentRef[]>();
  for (const request of requests) {
    let known = candidates.get(request.agent);
    if (!known) {
      const objects = await Promise.all([
        namespace
          ? agentObject(read, agentPath('namespaced', request.agent, namespace), request.agent)
          : undefined,
        agentObject(read, agentPath('cluster', request.agent, namespace), request.agent),
      ]);
      known = [
        ...objects.filter((entry) => entry !== undefined),
        ...catalogAgents.filter((entry) => entry.name === request.agent),
      ];
      candidates.set(request.agent, known);
    }
    const entry = resolveAgent(
      { agents: known.map((ref) => ({ ...ref, image: '' })) },
      request.agent,
      request.version,
    );
    if (entry?.cache === false)
      problems.push({
        field: request.field,
        message: `agent ${request.agent} is marked cache: false (its results are never reused): this stage cannot be cached; remove the setting`,
      });
  }
  return problems;
}
