/**
 * The specification's migration engine: a migration script is data, a list of transformations
 * (rename, move, delete, add, modify) over dotted paths, each with an optional CEL condition over
 * the object. `*` in a path matches every key of a map (or index of a list); in newPath it stands
 * for the same key. A new API version adds a script, not code.
 */
import { evaluate } from '@marcbachmann/cel-js';
import { isObject, ownChild, setOwn, type Json } from '../json.js';

export interface Transformation {
  type: 'rename' | 'move' | 'delete' | 'add' | 'modify';
  path: string;
  newPath?: string;
  value?: unknown;
  /** CEL over the whole object ({apiVersion, kind, metadata, spec, ...}); the step runs only when true. */
  condition?: string;
  /** modify: mapToList turns {k: {...}} into [{<key>: k, ...}]; listToMap is its inverse. */
  operation?: 'mapToList' | 'listToMap';
  key?: string;
}

export interface MigrationScript {
  from: string;
  to: string;
  transformations: Transformation[];
}

/** Concrete paths matching a pattern, with the keys the wildcards matched. */
function expand(root: unknown, pattern: string[]): { path: string[]; wild: string[] }[] {
  let matches: { node: unknown; path: string[]; wild: string[] }[] = [{ node: root, path: [], wild: [] }];
  pattern.forEach((segment, index) => {
    const last = index === pattern.length - 1;
    const next: typeof matches = [];
    for (const { node, path, wild } of matches) {
      if (!isObject(node) && !Array.isArray(node)) continue;
      const keys = segment === '*' ? Object.keys(node) : [segment];
      for (const key of keys) {
        const child = ownChild(node, key);
        if (child === undefined && !(last && segment !== '*')) continue;
        next.push({ node: child, path: [...path, key], wild: segment === '*' ? [...wild, key] : wild });
      }
    }
    matches = next;
  });
  return matches.map(({ path, wild }) => ({ path, wild }));
}

function get(root: unknown, path: string[]): unknown {
  let node = root;
  for (const key of path) {
    if (!isObject(node) && !Array.isArray(node)) return undefined;
    node = ownChild(node, key);
  }
  return node;
}

function set(root: Json, path: string[], value: unknown): void {
  let node: Json = root;
  path.slice(0, -1).forEach((key) => {
    if (!isObject(ownChild(node, key))) setOwn(node, key, {});
    node = ownChild(node, key) as Json;
  });
  setOwn(node, path[path.length - 1] ?? '', value);
}

function remove(root: unknown, path: string[]): void {
  const parent = get(root, path.slice(0, -1));
  if (isObject(parent)) Reflect.deleteProperty(parent, path[path.length - 1] ?? '');
}

function isPrefix(prefix: string[], path: string[]): boolean {
  return prefix.length <= path.length && prefix.every((key, index) => path[index] === key);
}

/**
 * Removes the objects a removal at `path` left empty (containers the other direction's script
 * created), up to but not including the top-level fields such as spec, and never one on `keep`.
 */
function pruneEmpty(root: unknown, path: string[], keep: string[] = []): void {
  for (let end = path.length - 1; end > 1; end -= 1) {
    const ancestor = path.slice(0, end);
    const node = get(root, ancestor);
    if (!isObject(node) || Object.keys(node).length > 0 || isPrefix(ancestor, keep)) return;
    remove(root, ancestor);
  }
}

function fill(pattern: string[], wild: string[]): string[] {
  let next = 0;
  return pattern.map((segment) => (segment === '*' ? (wild[next++] ?? '*') : segment));
}

function applies(object: Json, condition: string | undefined): boolean {
  if (condition === undefined) return true;
  return evaluate(condition, object) === true;
}

function modify(value: unknown, step: Transformation): unknown {
  const key = step.key ?? 'name';
  if (step.operation === 'mapToList' && isObject(value)) {
    return Object.entries(value).map(([name, item]) => ({ [key]: name, ...(isObject(item) ? item : {}) }));
  }
  if (step.operation === 'listToMap' && Array.isArray(value)) {
    return Object.fromEntries(
      value.filter(isObject).map((item) => {
        const { [key]: name, ...rest } = item;
        return [String(name), rest];
      }),
    );
  }
  return step.value === undefined ? value : step.value;
}

/** Applies a script to a deep copy of the object. */
export function migrate(object: Json, script: MigrationScript): Json {
  const result = structuredClone(object);
  for (const step of script.transformations) {
    if (!applies(result, step.condition)) continue;
    const pattern = step.path.split('.');
    switch (step.type) {
      case 'rename':
      case 'move': {
        const target = (step.newPath ?? step.path).split('.');
        for (const { path, wild } of expand(result, pattern)) {
          const value = get(result, path);
          if (value === undefined) continue;
          const destination = fill(target, wild);
          remove(result, path);
          set(result, destination, value);
          pruneEmpty(result, path, destination);
        }
        break;
      }
      case 'delete':
        for (const { path } of expand(result, pattern)) {
          remove(result, path);
          pruneEmpty(result, path);
        }
        break;
      case 'add':
        if (get(result, pattern) === undefined) set(result, pattern, structuredClone(step.value));
        break;
      case 'modify':
        for (const { path } of expand(result, pattern)) {
          const value = get(result, path);
          if (value !== undefined) set(result, path, modify(value, step));
        }
        break;
    }
  }
  return result;
}
