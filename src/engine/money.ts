/**
 * Money as integer micro-dollars, so sums are exact: "1.84" is 1_840_000. Budgets allow nine
 * integer digits, which keeps every sum far below Number.MAX_SAFE_INTEGER.
 */
const MONEY = /^(\d{1,12})(?:\.(\d{1,6}))?$/;

export function parseMicros(text: string): number {
  const match = MONEY.exec(text.trim());
  if (!match) throw new Error(`not a decimal amount of dollars: ${JSON.stringify(text)}`);
  const [, dollars = '0', fraction = ''] = match;
  return Number(dollars) * 1_000_000 + Number(fraction.padEnd(6, '0'));
}

/** Accepts what agents report: a decimal string or a JSON number of dollars. */
export function microsFromReport(value: unknown): number | undefined {
  if (typeof value === 'string' && MONEY.test(value.trim())) return parseMicros(value);
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return Math.round(value * 1_000_000);
  return undefined;
}

/** "1.84", "0.000125", "10.00": at least two decimals, no trailing zeros beyond them. */
export function formatMicros(micros: number): string {
  const dollars = Math.floor(micros / 1_000_000);
  const fraction = String(micros % 1_000_000)
    .padStart(6, '0')
    .replace(/0{1,4}$/, '');
  return `${dollars}.${fraction}`;
}
