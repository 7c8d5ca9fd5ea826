/**
 * Money as integer micro-dollars, so sums are exact: "1.84" is 1_840_000. The grammar is the
 * schema's (MONEY_PATTERN: nine integer digits, six decimals), and every sum saturates at its
 * largest value, so whatever agents report, the status stays within what the API server accepts.
 */
import { MAX_MICROS } from '../api/limits.js';
import { MONEY_PATTERN } from '../api/schema-kit.js';

const MONEY = new RegExp(MONEY_PATTERN);
/** What an agent may write: any decimal, however large; it saturates. */
const REPORTED = /^(\d+)(?:\.(\d+))?$/;

const saturate = (micros: number) => Math.min(MAX_MICROS, micros);

/** Dollars in the schema's grammar, as micro-dollars. */
export function parseMicros(text: string): number {
  const match = MONEY.test(text) ? REPORTED.exec(text) : null;
  if (!match) throw new Error(`not a decimal amount of dollars: ${JSON.stringify(text)}`);
  const [, dollars = '0', fraction = ''] = match;
  return Number(dollars) * 1_000_000 + Number(fraction.padEnd(6, '0'));
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
