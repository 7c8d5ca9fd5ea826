/**
 * ${...} substitution in stage inputs. A reference is a dotted path, optionally followed by
 * transforms: ${context.title|slug}, ${normalize.outputs.normalized_idea.summary|truncate:100},
 * ${$timestamp}, ${$runbook.name}. A string that is exactly one reference keeps the value's JSON
 * type; a reference inside a longer string is written into it (objects as JSON). An output kept
 * outside the status (stored-outputs.ts) only passes whole, as a file reference.
 */

import { fileReference, StoredOutput } from './stored-outputs.js';
import { graphemes } from '../../api/text.js';
import type { StoredFile } from '../model/types.js';

export interface SubstitutionScope {
  context: Record<string, unknown>;
  /** Outputs of finished stages, by stage name; those kept outside the status as StoredOutput. */
  outputs: Record<string, Record<string, unknown>>;
  timestamp: string;
  runbook: { name: string; namespace: string; version: string };
  /** Filled with the stored outputs the substituted values pass on, by path. */
  files?: Map<string, StoredFile>;
  /** The item an item of a forEach stage runs for: ${item}, ${item.<field>}, ${index}. */
  item?: { value: unknown; index: number };
}

export class UnresolvedReference extends Error {
  constructor(
    readonly reference: string,
    detail: string,
  ) {
    super(`\${${reference}}: ${detail}`);
  }
}

const REFERENCE = /\$\{([^{}]+)\}/g;
const WHOLE_REFERENCE = /^\$\{([^{}]+)\}$/;

function lookup(scope: SubstitutionScope, path: string, reference: string): unknown {
  const [head = '', ...rest] = path.split('.');
  let value: unknown;
  let walked: string[];
  if (head === 'context') {
    value = scope.context;
    walked = rest;
  } else if (head === '$timestamp' && rest.length === 0) {
    return scope.timestamp;
  } else if (head === '$runbook') {
    value = scope.runbook;
    walked = rest;
  } else if ((head === 'item' && rest[0] !== 'outputs') || (head === 'index' && rest.length === 0)) {
    if (!scope.item)
      throw new UnresolvedReference(reference, `only the inputs of a forEach stage read ${head}`);
    if (head === 'index') return scope.item.index;
    value = scope.item.value;
    walked = rest;
  } else if (rest[0] === 'outputs') {
    if (!Object.hasOwn(scope.outputs, head)) {
      throw new UnresolvedReference(
        reference,
        `stage ${head} has no outputs (it has not succeeded, or does not exist)`,
      );
    }
    value = scope.outputs[head];
    walked = rest.slice(1);
  } else {
    throw new UnresolvedReference(
      reference,
      'a reference starts with context., <stage>.outputs., $runbook. or item, or is $timestamp or index',
    );
  }
  for (const [index, part] of walked.entries()) {
    if (value instanceof StoredOutput) throw new UnresolvedReference(reference, value.refusal(head));
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, part)) {
      const at = [
        head,
        ...(head === 'context' || head === '$runbook' || head === 'item' ? [] : ['outputs']),
        ...walked.slice(0, index + 1),
      ];
      throw new UnresolvedReference(reference, `${at.join('.')} is not defined`);
    }
    value = (value as Record<string, unknown>)[part];
  }
  if (value === undefined) throw new UnresolvedReference(reference, 'is not defined');
  return value;
}

export function slug(text: string): string {
  return text
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

function asText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

const TRANSFORMS = new Set(['slug', 'upper', 'lower', 'truncate']);

/** Why a transform can never apply, whatever the value: an unknown name or a bad argument. */
function transformProblem(name: string): string | undefined {
  const [op = '', arg] = name.split(':').map((part) => part.trim());
  if (!TRANSFORMS.has(op)) return `unknown transform ${JSON.stringify(op)} (slug, upper, lower, truncate:N)`;
  if (op === 'truncate' && !(Number.isInteger(Number(arg)) && Number(arg) >= 0 && arg !== '')) {
    return 'truncate needs a whole number, as in truncate:100';
  }
  return undefined;
}

function transform(value: unknown, name: string, reference: string): unknown {
  const problem = transformProblem(name);
  if (problem) throw new UnresolvedReference(reference, problem);
  const [op = '', arg] = name.split(':').map((part) => part.trim());
  if (op === 'slug') return slug(asText(value));
  if (op === 'upper') return asText(value).toUpperCase();
  if (op === 'lower') return asText(value).toLowerCase();
  return graphemes(asText(value)).slice(0, Number(arg)).join('');
}

const RUNBOOK_FIELDS = new Set(['name', 'namespace', 'version']);

/** Why a reference's path can never resolve, whatever the run: its shape, not its values. */
function pathProblem(path: string): string | undefined {
  const [head = '', ...rest] = path.split('.');
  if (head === 'context' && rest.length > 0) return undefined;
  if (head === '$timestamp' && rest.length === 0) return undefined;
  if (head === '$runbook' && rest.length === 1 && RUNBOOK_FIELDS.has(rest[0] ?? '')) return undefined;
  if (head === '$runbook') return '$runbook has name, namespace and version';
  if ((head === 'item' && rest[0] !== 'outputs') || (head === 'index' && rest.length === 0)) return undefined;
  if (head && !head.startsWith('$') && rest[0] === 'outputs') return undefined;
  return 'a reference is context.<field>, <stage>.outputs[.<name>], $runbook.<name|namespace|version>, $timestamp, or in a forEach stage item[.<field>] or index';
}

/**
 * What can be known of a value's references before any run: each ${...} is closed, reads a path
 * that can exist, and names transforms that exist with valid arguments. Each problem quotes the
 * reference (whether the context field or the stage's output is there is checked elsewhere).
 */
export function referenceProblems(value: unknown): string[] {
  const problems: string[] = [];
  const visit = (node: unknown) => {
    if (typeof node === 'string') {
      for (const match of node.matchAll(REFERENCE)) {
        const reference = match[1] ?? '';
        const [path = '', ...transforms] = reference.split('|').map((part) => part.trim());
        const problem = pathProblem(path) ?? transforms.map(transformProblem).find(Boolean);
        if (problem) problems.push(`\${${reference}}: ${problem}`);
      }
      if (node.replace(REFERENCE, '').includes('${')) {
        problems.push(`${JSON.stringify(node.slice(0, 80))} has a \${ that is never closed with }`);
      }
    } else if (Array.isArray(node)) node.forEach(visit);
    else if (typeof node === 'object' && node !== null) Object.values(node).forEach(visit);
  };
  visit(value);
  return problems;
}

/**
 * A stored output, or a stage's outputs that hold one, as file references; it must be passed
 * whole (`whole`, no transforms), since the engine does not have its value.
 */
function passStored(scope: SubstitutionScope, value: unknown, reference: string, whole: boolean): unknown {
  const head = reference.split('.')[0]?.trim() ?? '';
  const pass = (stored: StoredOutput) => {
    if (!whole) throw new UnresolvedReference(reference, stored.refusal(head));
    const file = stored.file;
    scope.files?.set(file.path, file);
    return fileReference(file);
  };
  if (value instanceof StoredOutput) return pass(value);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const entries = Object.entries(value);
  if (!entries.some(([, item]) => item instanceof StoredOutput)) return value;
  return Object.fromEntries(
    entries.map(([key, item]) => [key, item instanceof StoredOutput ? pass(item) : item]),
  );
}

function resolve(scope: SubstitutionScope, reference: string, whole: boolean): unknown {
  const [path = '', ...transforms] = reference.split('|').map((part) => part.trim());
  let value = passStored(scope, lookup(scope, path, reference), reference, whole && transforms.length === 0);
  for (const name of transforms) value = transform(value, name, reference);
  return value;
}

/** Substitutes every reference in a value (strings, and strings nested in arrays and objects). */
export function substitute(value: unknown, scope: SubstitutionScope): unknown {
  if (typeof value === 'string') {
    const whole = WHOLE_REFERENCE.exec(value);
    if (whole) return resolve(scope, whole[1] ?? '', true);
    return value.replace(REFERENCE, (_, reference: string) => asText(resolve(scope, reference, false)));
  }
  if (Array.isArray(value)) return value.map((item) => substitute(item, scope));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, substitute(item, scope)]));
  }
  return value;
}

/** Calls `visit` with the path of every ${...} in a value (strings, and strings nested in arrays and objects), split at its dots, without transforms. */
function forEachReference(value: unknown, visit: (path: string[]) => void): void {
  const walk = (node: unknown) => {
    if (typeof node === 'string') {
      for (const match of node.matchAll(REFERENCE))
        visit((match[1] ?? '').split('|')[0]?.trim().split('.') ?? []);
    } else if (Array.isArray(node)) node.forEach(walk);
    else if (typeof node === 'object' && node !== null) Object.values(node).forEach(walk);
  };
  walk(value);
}

/** The paths a value reads from the context through ${context.<field>...}, as field names. */
export function referencedContext(value: unknown): string[][] {
  const paths: string[][] = [];
  forEachReference(value, ([head, ...rest]) => {
    if (head === 'context' && rest.length) paths.push(rest);
  });
  return paths;
}

/** The outputs a value reads through ${<stage>.outputs[.<name>]...}: the stage, and the output when named. */
export function referencedOutputs(value: unknown): { stage: string; output?: string }[] {
  const read: { stage: string; output?: string }[] = [];
  forEachReference(value, ([head, second, output]) => {
    if (head && second === 'outputs') read.push({ stage: head, ...(output ? { output } : {}) });
  });
  return read;
}

/** Whether a value reads ${item...} or ${index}, which only a forEach stage's inputs may. */
export function readsItem(value: unknown): boolean {
  let reads = false;
  forEachReference(value, ([head, second]) => {
    if ((head === 'item' && second !== 'outputs') || (head === 'index' && second === undefined)) reads = true;
  });
  return reads;
}

/** Stage names a value refers to through ${<stage>.outputs...}. */
export function referencedStages(value: unknown): Set<string> {
  return new Set(referencedOutputs(value).map((read) => read.stage));
}
