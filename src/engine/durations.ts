/** Durations in the API's format (a subset of Go's): 250ms, 30s, 5m, 4h, 1h30m, 1.5h. */
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
const WHOLE = /^(\d+(?:\.\d+)?(ms|s|m|h))+$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function parseDurationMs(text: string): number {
  if (!WHOLE.test(text)) throw new Error(`not a duration: ${JSON.stringify(text)}`);
  let total = 0;
  for (const [, amount = '0', unit = 's'] of text.matchAll(PART))
    total += Number(amount) * (UNIT_MS[unit] ?? 0);
  return Math.round(total);
}
