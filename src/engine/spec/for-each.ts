/**
 * forEach: where a stage's list of items comes from (a literal list, ${context.<field>}, or an
 * upstream stage's output), the stages it thereby depends on, and the names its items go by in the
 * status (<stage>[<index>]). Resolving the list at run time checks it is a list and not longer
 * than the operator allows.
 */
import type { StageV2 } from '../../api/v2/runbook.js';
import type { Problem } from '../stage/agent-report.js';
import { StoredOutput } from './stored-outputs.js';
import { substitute, UnresolvedReference, type SubstitutionScope } from './substitution.js';
import type { RunStage } from './workflow-stages.js';

/** The most an item's outputs may hold as JSON: they are gathered into its stage's lists. */
export const ITEM_OUTPUT_BYTES = 4 * 1024;

const jsonText = (value: unknown) => (JSON.stringify(value) as string | undefined) ?? 'nothing';

const WHOLE_REFERENCE = /^\$\{\s*([^{}|]+?)\s*\}$/;

/** A forEach stage (not one of its items, which carry `item`). */
export function isFanOut(spec: RunStage | undefined): spec is RunStage {
  return spec?.forEach !== undefined && spec.item === undefined;
}

export const itemName = (stage: string, index: number) => `${stage}[${index}]`;

/** The stage and index an item's status entry names, if `name` is one. */
export function parseItemName(name: string): { stage: string; index: number } | undefined {
  const match = /^(.+)\[(\d{1,5})\]$/.exec(name);
  return match ? { stage: match[1] ?? '', index: Number(match[2]) } : undefined;
}

export type ForEachSource = { list: unknown[] } | { reference: string; path: string[] } | { problem: string };

/** What a forEach value names: a list as written, or one whole reference to a list. */
export function forEachSource(value: unknown): ForEachSource {
  if (Array.isArray(value)) return { list: value };
  const match = typeof value === 'string' ? WHOLE_REFERENCE.exec(value) : null;
  const path = match?.[1]?.split('.') ?? [];
  const [head = '', second] = path;
  if (
    match &&
    ((head === 'context' && path.length > 1) ||
      (!head.startsWith('$') && second === 'outputs' && path.length > 2))
  ) {
    return { reference: value as string, path };
  }
  return {
    problem: `must be a list, or one whole reference to a list: \${context.<field>} or \${<stage>.outputs.<name>} (got ${jsonText(value).slice(0, 120)})`,
  };
}

/** The stage whose output a forEach reads, if it reads one. */
export function forEachStage(stage: Pick<StageV2, 'forEach'>): string | undefined {
  if (stage.forEach === undefined) return undefined;
  const source = forEachSource(stage.forEach);
  return 'path' in source && source.path[1] === 'outputs' ? source.path[0] : undefined;
}

/** Outputs forEach stages read as their lists, by the stage that reports them: kept in the status. */
export function listOutputs(stages: Iterable<Pick<StageV2, 'forEach'>>, stage: string): Set<string> {
  const names = new Set<string>();
  for (const other of stages) {
    const source = other.forEach === undefined ? undefined : forEachSource(other.forEach);
    if (source && 'path' in source && source.path[0] === stage && source.path[1] === 'outputs')
      names.add(source.path[2] ?? '');
  }
  return names;
}

function describe(value: unknown): string {
  const kind = value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value;
  const json = jsonText(value);
  return `${kind === 'object' ? 'an object' : kind === 'string' ? 'a string' : kind} (${json.length > 80 ? `${json.slice(0, 80)}...` : json})`;
}

/** The list a whole reference names in this run, or why it is none. */
function referencedList(
  source: { reference: string; path: string[] },
  scope: SubstitutionScope,
): unknown[] | { problem: Problem } {
  const [head = '', , output = ''] = source.path;
  const value = head === 'context' ? undefined : scope.outputs[head]?.[output];
  if (value instanceof StoredOutput) {
    return {
      problem: {
        reason: 'ForEachNotAList',
        message: `forEach ${source.reference}: ${head}.outputs.${output} is ${value.ref.bytes} bytes, kept in ConfigMap ${value.ref.configMap} outside the status; a list a forEach reads is kept in the status only up to its limit: have ${head} report a shorter list`,
      },
    };
  }
  let items: unknown;
  try {
    items = substitute(source.reference, { ...scope, files: new Map() });
  } catch (error) {
    if (!(error instanceof UnresolvedReference)) throw error;
    return { problem: { reason: 'UnresolvedReference', message: `forEach ${error.message}` } };
  }
  return Array.isArray(items)
    ? items
    : {
        problem: {
          reason: 'ForEachNotAList',
          message: `forEach ${source.reference} gave ${describe(items)}, not a list`,
        },
      };
}

/** The stage's items, or why it has none it can run. */
export function resolveItems(
  stage: StageV2,
  scope: SubstitutionScope,
  maxItems: number,
): { items: unknown[] } | { problem: Problem } {
  const source = forEachSource(stage.forEach);
  if ('problem' in source)
    return { problem: { reason: 'ForEachNotAList', message: `forEach ${source.problem}` } };
  const items = 'list' in source ? source.list : referencedList(source, scope);
  if (!Array.isArray(items)) return items;
  if (items.length > maxItems) {
    return {
      problem: {
        reason: 'TooManyItems',
        message: `forEach gave ${items.length} items, over the limit of ${maxItems} (the operator's fanOut.maxItems)`,
      },
    };
  }
  return { items };
}
