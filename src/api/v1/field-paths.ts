/**
 * A v1 runbook is checked as the v2 object it converts to; these put what the checks say back at
 * the fields its author wrote: `spec.agents.pipeline[2].config.timeout` of the converted object is
 * `spec.agents.research.timeout` of the v1 document.
 */
import { isObject, ownChild, type Json } from '../json.js';
import { TOP_LEVEL_SETTINGS } from './runbook.js';

/** A stage's path in v2: by index (the schema's checks) or by name (the CRD's rules, as the API server says them). */
const STAGE_PATH = /spec\.agents\.pipeline(?:\[([^\]]+)\](?:\.config\.([A-Za-z]+))?)?/g;
const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** The settings a v1 agent may hold at its top level, which v2 keeps under config. */
const MOVED = new Set<string>(['timeout', ...TOP_LEVEL_SETTINGS]);

/** The value at `path` under `node`, own properties only; undefined where there is none. */
function at(node: unknown, ...path: string[]): unknown {
  return path.reduce<unknown>((value, key) => (isObject(value) ? ownChild(value, key) : undefined), node);
}

function stageName(v2: Json, index: number): string | undefined {
  const pipeline = at(v2, 'spec', 'agents', 'pipeline');
  const stage = Array.isArray(pipeline) ? (pipeline[index] as unknown) : undefined;
  const name = isObject(stage) ? stage.name : undefined;
  return typeof name === 'string' ? name : undefined;
}

/** Whether the v1 document has `setting` at the agent's top level (the 1.0.0 layout). */
function atTopLevel(v1: Json, name: string, setting: string): boolean {
  const agent = at(v1, 'spec', 'agents', name);
  return isObject(agent) && Object.hasOwn(agent, setting);
}

/** Every v2 stage path in `text` (a field path or a message) as the v1 document's. */
export function v1Paths(text: string, v2: Json, v1: Json): string {
  return text.replace(STAGE_PATH, (whole, key: string | undefined, setting: string | undefined) => {
    if (key === undefined) return 'spec.agents';
    const name = /^\d+$/.test(key) ? stageName(v2, Number(key)) : key;
    if (name === undefined) return whole;
    const stage = PLAIN_KEY.test(name) ? `spec.agents.${name}` : `spec.agents[${name}]`;
    if (setting === undefined) return stage;
    const topLevel = MOVED.has(setting) && atTopLevel(v1, name, setting);
    return `${stage}.${topLevel ? '' : 'config.'}${setting}`;
  });
}
