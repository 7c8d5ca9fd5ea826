/**
 * `agentrunbook import`: the specification's own runbook format made into an AgentRunbook. That
 * format keeps version, created, description, tags, author and context in metadata, writes budgets
 * as `tokens: 500000` / `cost: 50.00`, money as YAML numbers, retry strategies as
 * retry_strategies, the conductor among the core agents, and comes in fragments (a spec section
 * or an agents section on its own). Each rewrite is reported, so nothing changes silently.
 */
import { convertRunbook, V1, V2 } from '../api/conversion.js';
import { KIND } from '../api/group.js';
import { isObject, setOwn, type Json } from '../api/json.js';
import { deepMerge } from '../engine/spec/effective.js';
import { referencedContext, slug } from '../engine/spec/substitution.js';

export interface Imported {
  runbook: Json & { metadata: Json; spec: Json };
  /** What was rewritten, one line each, naming the field. */
  changes: string[];
}

/** Top-level keys of a fragment that belong in spec, and those that belong in spec.agents. */
const SPEC_KEYS = new Set([
  'execution',
  'budgets',
  'quality',
  'agents',
  'workflows',
  'monitoring',
  'environments',
  'retry_strategies',
  'retryStrategies',
  'context',
]);
const AGENT_KEYS = new Set(['conductor', 'pipeline', 'core', 'deployment']);
/** What the specification keeps in metadata that an AgentRunbook keeps in spec. */
const METADATA_EXTRAS = ['version', 'created', 'description', 'tags', 'author', 'context'] as const;
const MONEY_FIELDS = ['maxUSD', 'perAgent', 'alertThreshold'] as const;
/** An object name (a DNS subdomain): no underscores, unlike the names inside a spec. */
const KUBERNETES_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A document as {metadata, spec}: a whole runbook, a spec section, or an agents section. */
function asRunbookShape(document: Json, source: string, changes: string[]): Json {
  if (isObject(document.spec) || isObject(document.metadata) || document.kind !== undefined) {
    return document.apiVersion === V1 ? convertRunbook(document, V2) : document;
  }
  const keys = Object.keys(document);
  if (keys.length && keys.every((key) => AGENT_KEYS.has(key))) {
    changes.push(`${source}: an agents section, put under spec.agents`);
    return { spec: { agents: document } };
  }
  const unknown = keys.filter((key) => !SPEC_KEYS.has(key));
  if (unknown.length) throw new Error(`${source}: ${unknown.join(', ')}: not part of a runbook`);
  changes.push(`${source}: a spec section, put under spec`);
  return { spec: document };
}

/** Money as the API writes it: a decimal string (YAML numbers lose trailing zeros and can round). */
function money(value: unknown, field: string, changes: string[]): unknown {
  if (typeof value !== 'number') return value;
  const text = value.toFixed(2);
  changes.push(`${field}: the number ${value} written as the decimal string "${text}"`);
  return text;
}

/** Budgets as the API has them, from the shorthand tokens: N, cost: N, time: "15m". */
function budgets(value: unknown, field: string, changes: string[]): unknown {
  if (!isObject(value)) return value;
  const result: Json = { ...value };
  if (typeof value.tokens === 'number') {
    result.tokens = { total: value.tokens };
    changes.push(`${field}.tokens: ${value.tokens} written as tokens.total`);
  }
  if (typeof value.cost === 'number' || typeof value.cost === 'string') {
    result.cost = { maxUSD: money(value.cost, `${field}.cost.maxUSD`, changes) };
    changes.push(`${field}.cost: written as cost.maxUSD`);
  } else if (isObject(value.cost)) {
    const cost: Json = { ...value.cost };
    for (const key of MONEY_FIELDS)
      if (cost[key] !== undefined) setOwn(cost, key, money(cost[key], `${field}.cost.${key}`, changes));
    result.cost = cost;
  }
  if (typeof value.time === 'string') {
    result.time = { total: value.time };
    changes.push(`${field}.time: "${value.time}" written as time.total`);
  }
  return result;
}

/**
 * An environment's `cost: N` sets only its ceiling; when that falls below the spec's alert
 * threshold, the overlay gets a threshold at the same share of its ceiling, so the alert still
 * comes before the ceiling (and the runbook stays valid).
 */
function scaledAlert(overlay: unknown, base: Json, field: string, changes: string[]): unknown {
  if (!isObject(overlay) || !isObject(overlay.cost)) return overlay;
  const { maxUSD, alertThreshold } = overlay.cost;
  const baseMax = Number(base.maxUSD);
  const baseAlert = Number(base.alertThreshold);
  if (alertThreshold !== undefined || typeof maxUSD !== 'string' || !(baseMax > 0) || !(baseAlert > 0))
    return overlay;
  if (Number(maxUSD) >= baseAlert) return overlay;
  const scaled = ((baseAlert / baseMax) * Number(maxUSD)).toFixed(2);
  changes.push(
    `${field}.cost.alertThreshold: set to ${scaled}, ${Math.round((baseAlert / baseMax) * 100)}% of this environment's maxUSD as in spec.budgets, since spec.budgets.cost.alertThreshold (${String(base.alertThreshold)}) is above it`,
  );
  return { ...overlay, cost: { ...overlay.cost, alertThreshold: scaled } };
}

/** Sections written as an empty list or object where the API has the other one. */
function emptySections(agents: Json, changes: string[]): Json {
  const result: Json = { ...agents };
  for (const [key, shape] of [
    ['core', 'map'],
    ['deployment', 'map'],
    ['pipeline', 'list'],
  ] as const) {
    const value = result[key];
    const empty = Array.isArray(value)
      ? value.length === 0
      : isObject(value) && Object.keys(value).length === 0;
    const wrong = shape === 'map' ? Array.isArray(value) : isObject(value);
    if (empty && wrong) {
      Reflect.deleteProperty(result, key);
      changes.push(`spec.agents.${key}: an empty ${shape === 'map' ? 'list' : 'object'}, dropped`);
    }
  }
  if (isObject(result.core) && isObject(result.core.conductor) && result.conductor === undefined) {
    const { conductor, ...core } = result.core;
    result.conductor = conductor;
    result.core = core;
    changes.push(
      'spec.agents.core.conductor: moved to spec.agents.conductor, where the API keeps the orchestrator',
    );
  }
  return result;
}

function fixSpec(spec: Json, changes: string[]): Json {
  const result: Json = { ...spec };
  if (result.retry_strategies !== undefined) {
    result.retryStrategies = deepMerge(
      isObject(result.retryStrategies) ? result.retryStrategies : {},
      isObject(result.retry_strategies) ? result.retry_strategies : {},
    );
    Reflect.deleteProperty(result, 'retry_strategies');
    changes.push('spec.retry_strategies: renamed spec.retryStrategies');
  }
  if (isObject(result.agents)) result.agents = emptySections(result.agents, changes);
  if (result.budgets !== undefined) result.budgets = budgets(result.budgets, 'spec.budgets', changes);
  if (isObject(result.environments)) {
    const base = isObject(result.budgets) && isObject(result.budgets.cost) ? result.budgets.cost : {};
    result.environments = Object.fromEntries(
      Object.entries(result.environments).map(([name, overlay]) => {
        if (!isObject(overlay) || overlay.budgets === undefined) return [name, overlay];
        const field = `spec.environments.${name}.budgets`;
        return [
          name,
          {
            ...overlay,
            budgets: scaledAlert(budgets(overlay.budgets, field, changes), base, field, changes),
          },
        ];
      }),
    );
  }
  if (isObject(result.workflows)) {
    const workflows: Json = {};
    for (const [name, workflow] of Object.entries(result.workflows)) {
      if (isObject(workflow) && Object.keys(workflow).length === 0)
        changes.push(`spec.workflows.${name}: empty, dropped`);
      else setOwn(workflows, name, workflow);
    }
    result.workflows = workflows;
  }
  return result;
}

/** Context fields that stage inputs read but the runbook does not set, as empty strings to fill in. */
function missingContext(spec: Json, changes: string[]): Json {
  const context: Json = isObject(spec.context) ? { ...spec.context } : {};
  const agents = isObject(spec.agents) ? spec.agents : {};
  for (const [field] of referencedContext(agents.pipeline ?? [])) {
    if (field === undefined || Object.hasOwn(context, field)) continue;
    setOwn(context, field, '');
    changes.push(
      `spec.context.${field}: stage inputs read it but nothing sets it; added empty, fill it in before running`,
    );
  }
  return Object.keys(context).length ? { ...spec, context } : spec;
}

export function importRunbook(
  documents: readonly { source: string; object: Json }[],
  options: { name?: string; now: Date },
): Imported {
  const changes: string[] = [];
  let merged: Json = {};
  for (const { source, object } of documents)
    merged = deepMerge(merged, asRunbookShape(object, source, changes));
  const metadata: Json = isObject(merged.metadata) ? { ...merged.metadata } : {};
  let spec: Json = isObject(merged.spec) ? { ...merged.spec } : {};
  for (const field of METADATA_EXTRAS) {
    if (metadata[field] === undefined) continue;
    if (spec[field] === undefined) setOwn(spec, field, metadata[field]);
    Reflect.deleteProperty(metadata, field);
    changes.push(`metadata.${field}: moved to spec.${field}`);
  }
  if (typeof spec.created === 'string' && /^\{.*\}$/.test(spec.created)) {
    const created = options.now.toISOString().replace(/\.\d{3}Z$/, 'Z');
    spec.created = created;
    changes.push(`spec.created: the placeholder written as the time of import, ${created}`);
  }
  if (spec.version === undefined) {
    spec.version = '1.0.0';
    changes.push('spec.version: none given, set to 1.0.0');
  }
  if (spec.agents === undefined) {
    spec.agents = {};
    changes.push('spec.agents: none given, set to {}');
  }
  spec = missingContext(fixSpec(spec, changes), changes);
  const given = options.name ?? (typeof metadata.name === 'string' ? metadata.name : undefined);
  const context = isObject(spec.context) ? spec.context : {};
  const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);
  const ideaSlug = slug(text(context.title) ?? text(context.ideaId) ?? '') || 'imported';
  const name = (given ?? `${ideaSlug}-runbook`)
    .replaceAll('{idea-slug}', ideaSlug)
    .replaceAll('{idea-id}', slug(text(context.ideaId) ?? ideaSlug));
  if (given !== undefined && name !== given)
    changes.push(`metadata.name: placeholders in "${given}" filled in: ${name}`);
  if (!KUBERNETES_NAME.test(name) || name.length > 253) {
    const fixed = slug(name.replace(/[{}]/g, '')).slice(0, 253) || 'imported-runbook';
    changes.push(`metadata.name: "${name}" is not a Kubernetes name; written as ${fixed}`);
    metadata.name = fixed;
  } else {
    metadata.name = name;
    if (given === undefined) changes.push(`metadata.name: none given, named ${name}`);
  }
  if (merged.apiVersion !== V2 || merged.kind !== KIND)
    changes.push(`apiVersion and kind: set to ${V2} ${KIND}`);
  return { runbook: { apiVersion: V2, kind: KIND, metadata, spec }, changes };
}
