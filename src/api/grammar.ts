/**
 * The grammar of what users and agents write, in one place: the schema's patterns and the
 * functions that read and print the same text, so the schema, admission and the engine agree.
 *
 * - Durations (a subset of Go's, which the API server's CEL duration() also parses): 250ms, 30s,
 *   5m, 4h, 1h30m, 1.5h. Admission refuses one over MAX_DURATION_MS (the schema's format
 *   "duration"); one that got past it (stored before the webhook ran) is read as that maximum.
 * - Money: decimal US dollars with at most six places, held as integer micro-dollars so sums are
 *   exact ("1.84" is 1_840_000); every sum saturates at MAX_MICROS, so whatever agents report the
 *   status stays within what the API server accepts. Printed with two to six decimals everywhere.
 * - Versions: Semantic Versioning 2.0.0. Names: what may appear in Job names and label values.
 */
import { MAX_DURATION_MS, MAX_MICROS } from './limits.js';

/** Go duration subset the API server's CEL duration() also parses: 30s, 5m, 4h, 1h30m, 250ms. */
export const DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$';
/** Decimal US dollars, at most six places (micro-dollars): "10.00", "0.000125". */
export const MONEY_PATTERN = '^[0-9]{1,9}(\\.[0-9]{1,6})?$';
/** Semantic Versioning 2.0.0, as given by semver.org. */
export const SEMVER_PATTERN =
  '^(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)(?:-((?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\\.(?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\\+([0-9a-zA-Z-]+(?:\\.[0-9a-zA-Z-]+)*))?$';
/** A container image reference, as the distribution reference grammar (Docker, containerd) reads it. */
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const IMAGE_DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const IMAGE_TAG = ':[\\w][\\w.-]{0,127}';
const IMAGE_DIGEST = '@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9A-Fa-f]{32,}';
export const IMAGE_PATTERN = `^(?:${IMAGE_DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*(?:${IMAGE_TAG})?(?:${IMAGE_DIGEST})?$`;
/** A ServiceAccount's name, as the API server checks it: a DNS subdomain. */
export const DNS_SUBDOMAIN_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

/** Stage, agent, gate and step names end up in Job names and label values. */
export const NAME_PATTERN = '^[a-z0-9]([-_a-z0-9]*[a-z0-9])?$';
export const NAME_MAX_LENGTH = 63;

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

export function formatElapsed(ms: number): string {
  const seconds = Math.round(ms / 1000);
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return [h ? `${h}h` : '', m ? `${m}m` : '', s || (!h && !m) ? `${s}s` : ''].join('');
}

const MONEY = new RegExp(MONEY_PATTERN);
/** What an agent may write: any decimal, however large; it saturates. */
const REPORTED = /^(\d+)(?:\.(\d+))?$/;

const saturate = (micros: number) => Math.min(MAX_MICROS, micros);

/** Whether the text is dollars in the schema's grammar. */
export function isMoney(text: string): boolean {
  return MONEY.test(text);
}

/** Dollars in the schema's grammar, as micro-dollars. */
export function parseMicros(text: string): number {
  const match = isMoney(text) ? REPORTED.exec(text) : null;
  if (!match) throw new Error(`not a decimal amount of dollars: ${JSON.stringify(text)}`);
  const [, dollars = '0', fraction = ''] = match;
  return Number(dollars) * 1_000_000 + Number(fraction.padEnd(6, '0'));
}

/** Dollars as a person writes them in a spec: a decimal string or a number (10.00), to micros. */
export function moneyMicros(amount: string | number): number {
  if (typeof amount === 'string') return parseMicros(amount);
  if (!Number.isFinite(amount) || amount < 0) throw new Error(`not an amount of dollars: ${amount}`);
  return saturate(Math.round(amount * 1_000_000));
}

/** Accepts what agents report: a decimal string or a JSON number of dollars, saturated. */
export function microsFromReport(value: unknown): number | undefined {
  if (typeof value === 'number') {
    return Number.isFinite(value) && value >= 0 ? saturate(Math.round(value * 1_000_000)) : undefined;
  }
  const match = typeof value === 'string' ? REPORTED.exec(value.trim()) : null;
  if (!match) return undefined;
  const [, dollars = '0', fraction = ''] = match;
  if (dollars.replace(/^0+/, '').length > 9) return MAX_MICROS;
  return saturate(Number(dollars) * 1_000_000 + Number(fraction.slice(0, 6).padEnd(6, '0')));
}

export function addMicros(a: number, b: number): number {
  return saturate(a + b);
}

/** "1.84", "0.000125", "10.00": at least two decimals, no trailing zeros beyond them. */
export function formatMicros(micros: number): string {
  const bounded = saturate(Math.max(0, Math.round(micros)));
  const dollars = Math.floor(bounded / 1_000_000);
  const fraction = String(bounded % 1_000_000)
    .padStart(6, '0')
    .replace(/0{1,4}$/, '');
  return `${dollars}.${fraction}`;
}
