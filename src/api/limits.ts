/**
 * The bounds on what users write, in one place. The operator serves every namespace: anything a
 * user writes is measured against these before it is walked, compiled or evaluated, so one
 * runbook can never exhaust the stack, the event loop or the memory that all runbooks share.
 */

/** Deepest nesting of any object, arrays and objects counted, the spec's own structure included. */
export const MAX_JSON_DEPTH = 32;
/** Most values (objects, arrays, scalars) in one object. */
const MAX_JSON_NODES = 100_000;
/** Longest duration anywhere in a spec (7 days); also the longest timer the operator sets. */
export const MAX_DURATION_MS = 7 * 24 * 3600 * 1000;
/** The most a CEL condition may cost, estimated as the API server does for CRD rules. */
export const CEL_COST_LIMIT = 100_000;
/** The most all gate conditions of one runbook may cost together: they are evaluated on every reconcile. */
export const CEL_TOTAL_COST_LIMIT = 200_000;
/** Largest amount of money: the schema's nine integer digits and six decimals, in micro-dollars. */
export const MAX_MICROS = 999_999_999_999_999;
/** Most tokens a count may hold: the largest integer a JSON number carries exactly. */
export const MAX_TOKENS = Number.MAX_SAFE_INTEGER;
/** Largest token budget a runbook may set (a trillion): far below what a count may hold. */
export const MAX_TOKEN_BUDGET = 1_000_000_000_000;

interface ShapeProblem {
  /** Path in kubectl's notation, cut after a few segments so the message stays short. */
  field: string;
  message: string;
}

const SHOWN_SEGMENTS = 12;

function pathText(segments: (string | number)[]): string {
  const shown = segments.slice(0, SHOWN_SEGMENTS);
  const text = shown.reduce<string>(
    (path, part) => (typeof part === 'number' ? `${path}[${part}]` : path ? `${path}.${part}` : part),
    '',
  );
  return segments.length > SHOWN_SEGMENTS ? `${text}...` : text;
}

/**
 * Measures a JSON value without recursion, so a value nested ten thousand levels deep is reported
 * rather than overflowing the stack. Returns the first bound it exceeds. Paths are only spelled
 * out for the value that exceeds one: each visited value keeps just its parent and key.
 */
export function jsonShapeProblem(
  value: unknown,
  root: (string | number)[] = [],
  limits: { depth: number; nodes: number } = { depth: MAX_JSON_DEPTH, nodes: MAX_JSON_NODES },
): ShapeProblem | undefined {
  const parents: number[] = [-1];
  const keys: (string | number)[] = [''];
  const depths: number[] = [0];
  const pathOf = (index: number) => {
    const path: (string | number)[] = [];
    for (let at = index; at > 0; at = parents[at] ?? 0) path.unshift(keys[at] ?? '');
    return [...root, ...path];
  };
  const stack: { node: unknown; index: number }[] = [{ node: value, index: 0 }];
  let nodes = 1;
  for (let next = stack.pop(); next; next = stack.pop()) {
    const { node, index } = next;
    if (typeof node !== 'object' || node === null) continue;
    const depth = depths[index] ?? 0;
    if (depth >= limits.depth) {
      return { field: pathText(pathOf(index)), message: `is nested deeper than ${limits.depth} levels` };
    }
    const children: [string | number, unknown][] = Array.isArray(node)
      ? Array.from((node as unknown[]).entries())
      : Object.entries(node);
    nodes += children.length;
    if (nodes > limits.nodes) {
      return { field: pathText(root), message: `holds more than ${limits.nodes} values` };
    }
    for (const [key, item] of children) {
      if (typeof item !== 'object' || item === null) continue;
      parents.push(index);
      keys.push(key);
      depths.push(depth + 1);
      stack.push({ node: item, index: parents.length - 1 });
    }
  }
  return undefined;
}

/** Finished Jobs the operator keeps per agent for its circuit breaker; also the largest threshold. */
export const AGENT_HISTORY_LIMIT = 100;

/**
 * Most runbooks with series of their own on /metrics (execution_duration, budget utilization,
 * spec.monitoring.metrics); the rest are counted, not exported, so a namespace creating runbooks
 * in a loop cannot grow the operator's memory or a Prometheus's series without bound.
 */
export const RUNBOOK_SERIES_LIMIT = 1000;
/** Most agents with circuit-breaker series on /metrics. */
export const BREAKER_SERIES_LIMIT = 200;
/** Most series of each metric runbooks declare (spec.monitoring.metrics), over all runbooks. */
export const DECLARED_SERIES_LIMIT = 10_000;
