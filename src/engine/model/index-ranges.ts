/**
 * Sets of item indexes written as a Job's completedIndexes are: ascending ranges, "0-4,7,9-10".
 * A status holds thousands of indexes this way in a few characters when they finish in order.
 */

export function parseIndexes(text: string | undefined): number[] {
  const indexes: number[] = [];
  for (const part of (text ?? '').split(',')) {
    if (!/^\d+(-\d+)?$/.test(part)) continue;
    const [from, to] = part.split('-').map(Number);
    if (from === undefined || !Number.isInteger(from)) continue;
    const last = to !== undefined && Number.isInteger(to) ? to : from;
    for (let index = from; index <= last; index += 1) indexes.push(index);
  }
  return indexes;
}

export function formatIndexes(indexes: Iterable<number>): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let at = 0; at < sorted.length;) {
    const from = sorted[at] ?? 0;
    let to = from;
    while (sorted[at + 1] === to + 1) {
      to += 1;
      at += 1;
    }
    parts.push(from === to ? String(from) : `${from}-${to}`);
    at += 1;
  }
  return parts.join(',');
}

export function withIndex(text: string | undefined, index: number): string {
  // Items mostly finish in order: extending the last range needs no parse of the rest.
  const last = /(?:^|,)(\d+)(?:-(\d+))?$/.exec(text ?? '');
  if (last) {
    const from = Number(last[1]);
    const to = Number(last[2] ?? last[1]);
    if (index === to + 1)
      return `${(text ?? '').slice(0, last.index)}${last.index ? ',' : ''}${from}-${index}`;
    if (index > to + 1) return `${text ?? ''},${index}`;
  }
  return formatIndexes([...parseIndexes(text), index]);
}
