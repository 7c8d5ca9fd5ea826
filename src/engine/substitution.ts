/**
 * ${...} substitution in stage inputs. A reference is a dotted path, optionally followed by
 * transforms: ${context.title|slug}, ${normalize.outputs.normalized_idea.summary|truncate:100},
 * ${$timestamp}, ${$runbook.name}. A string that is exactly one reference keeps the value's JSON
 * type; a reference inside a longer string is written into it (objects as JSON). An output kept
 * outside the status (stored-outputs.ts) only passes whole, as a file reference.
 */

import { fileReference, StoredOutput } from './stored-outputs.js';
import { graphemes } from './text.js';
import type { StoredFile } from './types.js';

export interface SubstitutionScope {
  context: Record<string, unknown>;
  /** Outputs of finished stages, by stage name; those kept outside the status as StoredOutput. */
  outputs: Record<string, Record<string, unknown>>;
  timestamp: string;
  runbook: { name: string; namespace: string; version: string };
  /** Filled with the stored outputs the substituted values pass on, by path. */
  files?: Map<string, StoredFile>;
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
      'a reference starts with context., <stage>.outputs., $runbook. or is $timestamp',
    );
  }
  for (const [index, part] of walked.entries()) {
    if (value instanceof StoredOutput) throw new UnresolvedReference(reference, value.refusal(head));
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, part)) {
      const at = [
        head,
        ...(head === 'context' || head === '$runbook' ? [] : ['outputs']),
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

function transform(value: unknown, name: string, reference: string): unknown {
  const [op = '', arg] = name.split(':').map((part) => part.trim());
  switch (op) {
    case 'slug':
      return slug(asText(value));
    case 'upper':
      return asText(value).toUpperCase();
    case 'lower':
      return asText(value).toLowerCase();
    case 'truncate': {
      const length = Number(arg);
      if (!Number.isInteger(length) || length < 0) {
        throw new UnresolvedReference(reference, `truncate needs a whole number, as in truncate:100`);
      }
      return graphemes(asText(value)).slice(0, length).join('');
    }
    default:
      throw new UnresolvedReference(
        reference,
        `unknown transform ${JSON.stringify(op)} (slug, upper, lower, truncate:N)`,
      );
  }
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

/** The paths a value reads from the context through ${context.<field>...}, as field names. */
export function referencedContext(value: unknown): string[][] {
  const paths: string[][] = [];
  const visit = (node: unknown) => {
    if (typeof node === 'string') {
      for (const match of node.matchAll(REFERENCE)) {
        const [head, ...rest] = (match[1] ?? '').split('|')[0]?.trim().split('.') ?? [];
        if (head === 'context' && rest.length) paths.push(rest);
      }
    } else if (Array.isArray(node)) node.forEach(visit);
    else if (typeof node === 'object' && node !== null) Object.values(node).forEach(visit);
  };
  visit(value);
  return paths;
}

/** Stage names a value refers to through ${<stage>.outputs...}. */
export function referencedStages(value: unknown): Set<string> {
  const stages = new Set<string>();
  const visit = (node: unknown) => {
    if (typeof node === 'string') {
      for (const match of node.matchAll(REFERENCE)) {
        const [head, second] = (match[1] ?? '').split('|')[0]?.trim().split('.') ?? [];
        if (head && second === 'outputs') stages.add(head);
      }
    } else if (Array.isArray(node)) node.forEach(visit);
    else if (typeof node === 'object' && node !== null) Object.values(node).forEach(visit);
  };
  visit(value);
  return stages;
}
