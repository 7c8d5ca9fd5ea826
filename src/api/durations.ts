/**
 * Durations in the API's format (a subset of Go's): 250ms, 30s, 5m, 4h, 1h30m, 1.5h. Admission
 * refuses a duration over MAX_DURATION_MS (the schema's format "duration"); one that got past it
 * (an object stored before the webhook ran) is read as that maximum.
 */
import { MAX_DURATION_MS } from './limits.js';

const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
const WHOLE = /^(\d+(?:\.\d+)?(ms|s|m|h))+$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function exactDurationMs(text: string): number {
  if (!WHOLE.test(text)) throw new Error(`not a duration: ${JSON.stringify(text)}`);
  let total = 0;
  for (const [, amount = '0', unit = 's'] of text.matchAll(PART))
    total += Number(amount) * (UNIT_MS[unit] ?? 0);
  return Math.round(total);
}

/** A duration in milliseconds, at most MAX_DURATION_MS. */
export function parseDurationMs(text: string): number {
  return Math.min(MAX_DURATION_MS, exactDurationMs(text));
}

/** Whether the text is a duration the API accepts: well-formed and at most MAX_DURATION_MS. */
export function isAcceptedDuration(text: string): boolean {
  return WHOLE.test(text) && exactDurationMs(text) <= MAX_DURATION_MS;
}

export const MAX_DURATION_TEXT = `${MAX_DURATION_MS / 3_600_000}h`;
