/**
 * Lossless conversion between i2s.studio/v1 and v2. The migration scripts move what both versions
 * can say; what the target version cannot hold is kept in an annotation on the converted object
 * (as Tekton keeps v1beta1 fields on v1 objects) and put back when the object is converted back,
 * so v1 -> v2 -> v1 and v2 -> v1 -> v2 give back the identical object.
 */
import { isDeepStrictEqual } from 'node:util';
import { GROUP } from './group.js';
import { isObject, ownChild, setOwn, type Json } from './json.js';
import { migrate } from './migration/engine.js';
import { V1_TO_V2, V2_TO_V1 } from './migration/v1-to-v2.js';

export const V1 = `${GROUP}/v1`;
export const V2 = `${GROUP}/v2`;
/** On a v1 object: the v2 fields that v1 cannot hold. */
export const ANNOTATION_V2_FIELDS = `${GROUP}/v2-fields`;
/** On a v2 object: the v1 fields that v2 cannot hold. */
export const ANNOTATION_V1_FIELDS = `${GROUP}/v1-fields`;

/** A change that turns one spec into another: set `path` to `value`, or delete it. */
type Patch = { path: string[]; value: unknown } | { path: string[]; delete: true };

/** The patches that turn `from` into `to` (objects compared key by key, anything else as a whole). */
export function diff(to: unknown, from: unknown, path: string[] = []): Patch[] {
  if (isDeepStrictEqual(to, from)) return [];
  if (!isObject(to) || !isObject(from)) return [{ path, value: to }];
  const patches: Patch[] = [];
  for (const key of new Set([...Object.keys(from), ...Object.keys(to)])) {
    if (!Object.hasOwn(to, key)) patches.push({ path: [...path, key], delete: true });
    else patches.push(...diff(ownChild(to, key), ownChild(from, key), [...path, key]));
  }
  return patches;
}

export function patch(target: Json, patches: Patch[]): Json {
  const result = structuredClone(target);
  for (const change of patches) {
    let node: Json = result;
    for (const key of change.path.slice(0, -1)) {
      if (!isObject(ownChild(node, key))) setOwn(node, key, {});
      node = ownChild(node, key) as Json;
    }
    const last = change.path[change.path.length - 1] ?? '';
    if ('delete' in change) Reflect.deleteProperty(node, last);
    else setOwn(node, last, structuredClone(change.value));
  }
  return result;
}

function isPatch(value: unknown): value is Patch {
  return (
    isObject(value) &&
    Array.isArray(value.path) &&
    value.path.length > 0 &&
    value.path.every((key) => typeof key === 'string') &&
    ('value' in value || value.delete === true)
  );
}

interface Direction {
  to: string;
  forward: typeof V1_TO_V2;
  back: typeof V1_TO_V2;
  /** Annotation this direction writes, and the one it reads and removes. */
  keep: string;
  restore: string;
}

const UP: Direction = {
  to: V2,
  forward: V1_TO_V2,
  back: V2_TO_V1,
  keep: ANNOTATION_V1_FIELDS,
  restore: ANNOTATION_V2_FIELDS,
};
const DOWN: Direction = {
  to: V1,
  forward: V2_TO_V1,
  back: V1_TO_V2,
  keep: ANNOTATION_V2_FIELDS,
  restore: ANNOTATION_V1_FIELDS,
};

function parsePatches(text: string, annotation: string): Patch[] {
  try {
    const parsed = JSON.parse(text) as unknown;
    if (Array.isArray(parsed) && parsed.every(isPatch)) return parsed;
  } catch {
    // fall through to the error below
  }
  throw new Error(`annotation ${annotation} is not a list of conversion patches`);
}

function convertWith(object: Json, direction: Direction): Json {
  const metadata = structuredClone((object.metadata ?? {}) as Json);
  const annotations = { ...((metadata.annotations ?? {}) as Record<string, string>) };
  delete metadata.annotations;
  const stashed = annotations[direction.restore];
  Reflect.deleteProperty(annotations, direction.restore);

  const source = { spec: object.spec };
  let converted = migrate(source, direction.forward);
  if (stashed !== undefined) {
    converted = { spec: patch((converted.spec ?? {}) as Json, parsePatches(stashed, direction.restore)) };
  }
  // What the target cannot hold: whatever a trip back would not bring back.
  const lost = diff(source.spec, migrate(converted, direction.back).spec);
  if (lost.length) setOwn(annotations, direction.keep, JSON.stringify(lost));
  else Reflect.deleteProperty(annotations, direction.keep);

  return {
    ...object,
    apiVersion: direction.to,
    metadata: { ...metadata, ...(Object.keys(annotations).length ? { annotations } : {}) },
    spec: converted.spec,
  };
}

/** Converts an AgentRunbook (as JSON) to the desired apiVersion; status is the same in both. */
export function convertRunbook(object: Json, desiredApiVersion: string): Json {
  if (object.apiVersion === desiredApiVersion) return object;
  if (object.apiVersion === V1 && desiredApiVersion === V2) return convertWith(object, UP);
  if (object.apiVersion === V2 && desiredApiVersion === V1) return convertWith(object, DOWN);
  throw new Error(`cannot convert ${String(object.apiVersion)} to ${desiredApiVersion}`);
}
