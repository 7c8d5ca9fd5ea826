/**
 * Turns a TypeBox/JSON Schema into a Kubernetes structural schema (openAPIV3Schema): no
 * patternProperties, no additionalProperties beside properties, nothing TypeBox-specific.
 */
import { isObject, setOwn, type Json } from './json.js';

export type JsonSchema = Json;

const DROPPED_KEYS = new Set(['$id', '$schema']);

export function toStructural(schema: unknown): JsonSchema {
  // A JSON round trip drops TypeBox's symbol-keyed bookkeeping.
  const plain = JSON.parse(JSON.stringify(schema)) as unknown;
  return convert(plain);
}

function convert(node: unknown): JsonSchema {
  if (!isObject(node)) throw new Error(`expected a schema object, got ${JSON.stringify(node)}`);
  // A value of two shapes (schema-kit's OneShapeOf) is untyped to the API server: its description
  // stays for kubectl explain, and the validating webhook checks the shapes.
  if ('if' in node) return { description: node.description, 'x-kubernetes-preserve-unknown-fields': true };
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (DROPPED_KEYS.has(key)) continue;
    switch (key) {
      case 'properties':
        out.properties = Object.fromEntries(
          Object.entries(value as JsonSchema).map(([name, sub]) => [name, convert(sub)]),
        );
        break;
      case 'items':
        out.items = convert(value);
        break;
      case 'patternProperties': {
        const values = Object.values(value as JsonSchema);
        if (values.length !== 1) throw new Error('a map schema must have exactly one value schema');
        out.additionalProperties = convert(values[0]);
        break;
      }
      case 'additionalProperties':
        // Structural schemas refuse additionalProperties beside properties; the API server prunes
        // (and with strict field validation refuses) unknown fields anyway.
        if (isObject(value)) out.additionalProperties = convert(value);
        break;
      default:
        setOwn(out, key, value);
    }
  }
  return out;
}
