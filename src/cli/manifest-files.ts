/** Reading manifests the way kubectl -f does: YAML or JSON files, several documents each, `-` for stdin. */
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { isObject, type Json } from '../api/json.js';

export interface Manifest {
  /** Where it came from: the file, and the document's index when the file holds several. */
  source: string;
  object: Json;
}

/** The API server takes no request body larger than this (3 MiB), so no manifest is either. */
const MAX_MANIFEST_BYTES = 3 * 1024 * 1024;

function readText(path: string): string {
  const text = readFileSync(path === '-' ? 0 : path, 'utf8');
  if (Buffer.byteLength(text) > MAX_MANIFEST_BYTES)
    throw new Error(`${path}: larger than ${MAX_MANIFEST_BYTES} bytes`);
  return text;
}

/** Every object of the files, in order; a document that is not a YAML object is an error naming it. */
export function readManifests(paths: readonly string[]): Manifest[] {
  return paths.flatMap((path) => {
    const documents = parseAllDocuments(readText(path)).filter((document) => document.contents !== null);
    return documents.map((document, index) => {
      const source = documents.length > 1 ? `${path}#${index + 1}` : path;
      if (document.errors.length) throw new Error(`${source}: ${document.errors[0]?.message ?? 'not YAML'}`);
      const object: unknown = document.toJS({ maxAliasCount: 100 });
      if (!isObject(object)) throw new Error(`${source}: not a YAML object`);
      return { source, object };
    });
  });
}

/** The one object of a file (diff OLD NEW, optimize FILE). */
export function readManifest(path: string): Manifest {
  const manifests = readManifests([path]);
  const [only] = manifests;
  if (!only || manifests.length > 1)
    throw new Error(`${path}: expected one object, found ${manifests.length}`);
  return only;
}
