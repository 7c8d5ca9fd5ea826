/**
 * The metric names a PromQL expression reads, for checking dashboards and alert rules against
 * what /metrics serves: label matchers, strings, ranges, grouping clauses and function names are
 * taken out, and what is left are the selectors' names.
 */
const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
]);

export function promqlMetricNames(expression: string): string[] {
  const bare = expression
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '')
    .replace(/\$\w+/g, '');
  const names = [...bare.matchAll(/(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\()?/g)]
    .filter((match) => match[2] === undefined && !KEYWORDS.has(match[1] ?? ''))
    .map((match) => match[1] ?? '');
  return [...new Set(names)];
}

/** The family a sample name belongs to: histogram and summary series drop their suffix. */
export function familyOf(name: string): string {
  return name.replace(/_(bucket|sum|count)$/, '');
}
