/**
 * Where a CPU profile's time went (`node --cpu-prof`): self time by place (a package, a file of
 * the operator's, Node's internals, the garbage collector) and by function, most first.
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface Share {
  name: string;
  ms: number;
  percent: number;
}

/** Where a function's code lives: its package, the operator's file, Node's internals, or V8's. */
export function placeOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const inPackage = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (inPackage?.[1]) return inPackage[1];
  if (url.startsWith('node:')) return 'node: internals';
  const own = /\/dist\/(.+)$/.exec(url);
  return own?.[1] ? `operator: ${own[1]}` : url;
}

/** Self time in ms by place and by function, the `top` largest of each, idle time left out. */
export function summarize(
  profile: CpuProfile,
  top = 12,
): { totalMs: number; places: Share[]; functions: Share[] } {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const places = new Map<string, number>();
  const functions = new Map<string, number>();
  let totalUs = 0;
  profile.samples.forEach((id, index) => {
    const frame = byId.get(id)?.callFrame;
    const us = profile.timeDeltas[index] ?? 0;
    if (!frame || frame.functionName === '(idle)') return;
    totalUs += us;
    const place = placeOf(frame.url, frame.functionName);
    places.set(place, (places.get(place) ?? 0) + us);
    const name = `${frame.functionName || '(anonymous)'} ${place}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
    functions.set(name, (functions.get(name) ?? 0) + us);
  });
  const shares = (map: Map<string, number>) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({
        name,
        ms: Math.round(us / 100) / 10,
        percent: totalUs ? Math.round((us / totalUs) * 1000) / 10 : 0,
      }));
  return { totalMs: Math.round(totalUs / 100) / 10, places: shares(places), functions: shares(functions) };
}
