/** How numbers, times and long text read in the console. */

export function age(from: string | undefined, now: number): string {
  if (!from) return '';
  return duration((now - Date.parse(from)) / 1000);
}

export function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '';
  if (seconds < 60) return `${Math.floor(seconds)}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${Math.floor(seconds % 60)}s`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h${Math.floor((seconds % 3600) / 60)}m`;
  return `${Math.floor(seconds / 86_400)}d${Math.floor((seconds % 86_400) / 3600)}h`;
}

export function between(start: string | undefined, end: string | undefined, now: number): string {
  if (!start) return '';
  return duration(((end ? Date.parse(end) : now) - Date.parse(start)) / 1000);
}

export const tokens = (value: number | undefined) => (value ?? 0).toLocaleString('en');

export const dollars = (value: string | number | undefined) => `$${Number(value ?? 0).toFixed(4)}`;

/** At most `max` characters, with an ellipsis when cut (labels in the graph and the tables). */
export function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** An output value as the page shows it: a string as its text, anything else as formatted JSON. */
export function outputText(value: unknown): { text: string; json: boolean } {
  return typeof value === 'string'
    ? { text: value, json: false }
    : { text: JSON.stringify(value, null, 2), json: true };
}

export const runHash = (namespace: string, name: string) =>
  `#/run/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;
