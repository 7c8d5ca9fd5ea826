/** Hostile values the suites of issue 9 build: deep nesting and costly CEL conditions. */

/** An object nested `depth` levels deep ({a: {a: ... leaf}}), built without recursion. */
export function deepObject(depth: number, leaf: unknown): unknown {
  let value = leaf;
  for (let level = 0; level < depth; level++) value = { a: value };
  return value;
}

/**
 * The same as JSON text, for depths JSON.stringify itself cannot take: the leaf is a
 * ${context.title} reference, so the value is also one the substitution would walk.
 */
export function deepJsonText(depth: number): string {
  return `${'{"a":'.repeat(depth)}"\${context.title}"${'}'.repeat(depth)}`;
}

/** all() nested `depth` deep over context.domains (the condition has depth 5). */
export function nestedAll(depth: number): string {
  const names = 'abcdefgh'.slice(0, depth).split('');
  return names.reduceRight((body, name) => `context.domains.all(${name}, ${body})`, 'a == a');
}

/** 64 domains: as many as the schema lets a runbook list. */
export const DOMAINS = Array.from({ length: 64 }, (_, index) => `d${index}`);
