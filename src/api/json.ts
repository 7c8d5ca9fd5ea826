/** Plain JSON objects, as the API server sends and stores them. */
export type Json = Record<string, unknown>;

/** A JSON object (not null, not an array). */
export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The own property `key` of `node`, never an inherited one: a path a user wrote (`__proto__`,
 * `constructor`) must not lead into a prototype.
 */
export function ownChild(node: Json | unknown[], key: string): unknown {
  return Object.hasOwn(node, key) ? (node as Json)[key] : undefined;
}

/** Sets `key` as an own data property, so even `__proto__` is data and never the prototype. */
export function setOwn(node: Json, key: string, value: unknown): void {
  // Only `__proto__` is not an own property when assigned; the rest take the fast path.
  if (key === '__proto__')
    Object.defineProperty(node, key, { value, writable: true, enumerable: true, configurable: true });
  // eslint-disable-next-line no-restricted-syntax -- the one assignment the rule allows: `__proto__` is handled above
  else node[key] = value;
}

/**
 * A deep copy of a JSON value (what the API server sends: objects, arrays, strings, numbers,
 * booleans, null), several times faster than structuredClone for it; `__proto__` stays data.
 */
export function cloneJson<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((item: unknown) => cloneJson(item)) as T;
  const copy: Json = {};
  for (const key of Object.keys(value)) setOwn(copy, key, cloneJson((value as Json)[key]));
  return copy as T;
}

/**
 * Whether two values serialize to the same JSON, without serializing them: object keys in any
 * order, a property whose value is undefined the same as an absent one.
 */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, index) => sameJson(item, b[index]));
  }
  if (!isObject(a) || !isObject(b)) return false;
  const defined = (object: Json) => Object.keys(object).filter((key) => object[key] !== undefined);
  const keys = defined(a);
  if (keys.length !== defined(b).length) return false;
  return keys.every((key) => Object.hasOwn(b, key) && sameJson(a[key], b[key]));
}
