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
  /** By verb and resource, e.g. "create jobs", "update agentrunbooks/status". */
  by: Map<string, number>;
}

const WRITES = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

/** The requests `user` made, from audit log lines (JSON, one per line); watches not counted. */
export function requestsOf(auditLines: string, user: string): Requests {
  const requests: Requests = { all: 0, writes: 0, by: new Map() };
  for (const line of auditLines.split('\n')) {
    if (!line.includes(user)) continue;
    const entry = JSON.parse(line) as {
      verb: string;
      user: { username: string };
      objectRef?: { resource?: string; subresource?: string };
    };
    if (entry.user.username !== user || entry.verb === 'watch') continue;
    requests.all += 1;
    if (WRITES.has(entry.verb)) requests.writes += 1;
    const resource = [entry.objectRef?.resource, entry.objectRef?.subresource].filter(Boolean).join('/');
    const key = `${entry.verb} ${resource || '(non-resource)'}`;
    requests.by.set(key, (requests.by.get(key) ?? 0) + 1);
  }
  return requests;
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
