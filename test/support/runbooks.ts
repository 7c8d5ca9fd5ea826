import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from '../../hack/local-cluster/paths.js';

export const examplesDir = join(repoRoot, 'examples');

export function exampleFiles(): string[] {
  return readdirSync(examplesDir)
    .filter((file) => file.endsWith('.yaml'))
    .sort();
}

/** Runbooks in the v1 layout; they need the conversion webhook. */
export function v1ExampleFiles(): string[] {
  return readdirSync(join(examplesDir, 'v1'))
    .filter((file) => file.endsWith('.yaml'))
    .sort();
}

export function loadExample(file: string): Record<string, unknown> {
  return parse(readFileSync(join(examplesDir, file), 'utf8')) as Record<string, unknown>;
}
