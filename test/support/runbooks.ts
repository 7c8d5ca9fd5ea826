import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from '../../hack/local-cluster/paths.js';

export const examplesDir = join(repoRoot, 'examples');

/** The v2 examples: those `make demo` runs, then those that need an LLM provider (examples/llm/). */
export function exampleFiles(): string[] {
  const yaml = (dir: string) =>
    readdirSync(join(examplesDir, dir))
      .filter((file) => file.endsWith('.yaml'))
      .sort()
      .map((file) => join(dir, file));
  return [...yaml('.'), ...yaml('llm')];
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
