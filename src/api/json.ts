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
