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
  Object.defineProperty(node, key, { value, writable: true, enumerable: true, configurable: true });
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
