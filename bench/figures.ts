/**
 * The bench's arithmetic, apart from its beds so that a unit test holds it: percentiles, the
 * operator's requests read from an audit log, the figures and the table they end in.
 */

export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** The 1, 5 and 15 minute load averages when the figure was taken. */
  load: number[];
  target?: string;
  met?: boolean;
}

export function figure(
  name: string,
  value: number,
  unit: string,
  load: number[],
  target?: { text: string; met: boolean },
): Figure {
  return {
    name,
    value: Math.round(value * 100) / 100,
    unit,
    load: load.map((l) => Math.round(l * 100) / 100),
    ...(target ? { target: target.text, met: target.met } : {}),
  };
}

/** The nearest-rank percentile; NaN for no samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (!samples.length) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

export interface Requests {
  /** Every request but watches. */
  all: number;
  writes: number;
  /** Updates refused for a stale resourceVersion (409 Conflict). */
  conflicts: number;
  /** By verb and resource, e.g. "create jobs", "update agentrunbooks/status". */
  by: Map<string, number>;
}

const WRITES = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

/** What the bench reads of an audit log entry. */
interface AuditEntry {
  verb: string;
  user: { username: string };
  objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string };
  responseStatus?: { code?: number };
  requestReceivedTimestamp?: string;
  stageTimestamp?: string;
}

/** The entries of `user`'s requests in audit log lines (JSON, one per line). */
function* entriesOf(auditLines: string, user: string): Generator<AuditEntry> {
  for (const line of auditLines.split('\n')) {
    if (!line.includes(user)) continue;
    const entry = JSON.parse(line) as AuditEntry;
    if (entry.user.username === user) yield entry;
  }
}

/** The requests `user` made, from audit log lines; watches not counted. */
export function requestsOf(auditLines: string, user: string): Requests {
  const requests: Requests = { all: 0, writes: 0, conflicts: 0, by: new Map() };
  for (const entry of entriesOf(auditLines, user)) {
    if (entry.verb === 'watch') continue;
    requests.all += 1;
    if (entry.responseStatus?.code === 409 && ['update', 'patch'].includes(entry.verb))
      requests.conflicts += 1;
    if (WRITES.has(entry.verb)) requests.writes += 1;
    const resource = [entry.objectRef?.resource, entry.objectRef?.subresource].filter(Boolean).join('/');
    const key = `${entry.verb} ${resource || '(non-resource)'}`;
    requests.by.set(key, (requests.by.get(key) ?? 0) + 1);
  }
  return requests;
}

/** When the API server received a request and when it had answered it, in ms since the epoch. */
export interface Answered {
  received: number;
  answered: number;
}

/**
 * Each object `user` made the request `verb resource` on that succeeded (a Job created, a Pod's
 * status patched), by namespace/name, from audit log lines (the last if several): the cluster's
 * own clock for when a Job was created or a Pod ended.
 */
export function auditedTimes(
  auditLines: string,
  user: string,
  verb: string,
  resource: string,
): Map<string, Answered> {
  const [plural, subresource] = resource.split('/');
  const times = new Map<string, Answered>();
  for (const entry of entriesOf(auditLines, user)) {
    const { objectRef: ref, responseStatus } = entry;
    if (entry.verb !== verb || !ref?.name) continue;
    if (ref.resource !== plural || ref.subresource !== subresource) continue;
    if ((responseStatus?.code ?? 0) < 200 || (responseStatus?.code ?? 0) >= 300) continue;
    times.set(`${ref.namespace ?? ''}/${ref.name}`, {
      received: Date.parse(entry.requestReceivedTimestamp ?? ''),
      answered: Date.parse(entry.stageTimestamp ?? ''),
    });
  }
  return times;
}

/** The requests per stage by verb and resource, most first, as one line. */
export function breakdown(by: ReadonlyMap<string, number>, stages: number): string {
  return [...by.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([key, count]) => `${key} ${(count / stages).toFixed(2)}`)
    .join(', ');
}

/** `--stored 100,1000,5000`: the stored-runbook counts to measure, ascending, each above 0. */
export function storedCounts(flag: string): number[] {
  const counts = flag
    .split(',')
    .filter((part) => part.trim() !== '')
    .map((part) => Number(part));
  for (const count of counts) {
    if (!Number.isInteger(count) || count < 1) throw new Error(`--stored takes counts above 0, not ${flag}`);
  }
  return [...new Set(counts)].sort((a, b) => a - b);
}

export const BEDS = ['default', 'unthrottled', 'stored'] as const;

/** `--beds default,stored`: the beds to measure, each one the bench has. */
export function bedsOf(flag: string): Set<(typeof BEDS)[number]> {
  const beds = new Set<(typeof BEDS)[number]>();
  for (const bed of flag.split(',').filter(Boolean)) {
    const known = BEDS.find((name) => name === bed);
    if (!known) throw new Error(`--beds takes ${BEDS.join(', ')}, not ${bed}`);
    beds.add(known);
  }
  return beds;
}

/** The figures as a Markdown table: figure, value, target, met, load averages. */
export function table(figures: readonly Figure[]): string {
  const rows = figures.map((f) => [
    f.name,
    `${f.value} ${f.unit}`,
    f.target ?? '',
    f.met === undefined ? '' : f.met ? 'met' : 'NOT met',
    f.load.join(' '),
  ]);
  const header = ['Figure', 'Value', 'Target', 'Met', 'Load (1 5 15 min)'];
  const line = (cells: string[]) => `| ${cells.map((cell) => cell.replaceAll('|', '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** A Prometheus text exposition's samples, by series as written (`name{labels}`); comments skipped. */
export function samples(exposition: string): Map<string, number> {
  const series = new Map<string, number>();
  for (const line of exposition.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const split = line.lastIndexOf(' ');
    series.set(line.slice(0, split), Number(line.slice(split + 1)));
  }
  return series;
}

/** What each series gained between two scrapes. */
export function gained(after: ReadonlyMap<string, number>, before: ReadonlyMap<string, number>) {
  return new Map([...after].map(([key, value]) => [key, value - (before.get(key) ?? 0)]));
}

const nameOf = (key: string) => key.split('{')[0] ?? key;

/** The sum of a counter's (or gauge's) series. */
export function total(series: ReadonlyMap<string, number>, metric: string): number {
  let sum = 0;
  for (const [key, value] of series) if (nameOf(key) === metric) sum += value;
  return sum;
}

/**
 * The q-quantile of a histogram (all its series together), as the upper bound of the bucket it
 * falls in, in the histogram's unit; NaN when nothing was observed or it is past the last bound.
 */
export function histogramQuantile(series: ReadonlyMap<string, number>, metric: string, q: number): number {
  const buckets = new Map<number, number>();
  for (const [key, value] of series) {
    if (nameOf(key) !== `${metric}_bucket`) continue;
    const bound = /le="([^"]+)"/.exec(key)?.[1];
    if (bound === undefined) continue;
    const le = bound === '+Inf' ? Infinity : Number(bound);
    buckets.set(le, (buckets.get(le) ?? 0) + value);
  }
  const count = buckets.get(Infinity) ?? 0;
  if (!count) return Number.NaN;
  for (const [le, cumulative] of [...buckets].sort((a, b) => a[0] - b[0])) {
    if (cumulative >= q * count) return Number.isFinite(le) ? le : Number.NaN;
  }
  return Number.NaN;
}
