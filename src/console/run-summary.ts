/**
 * What the run page draws that the runbook does not say in one place: the stage graph of every
 * workflow (from the spec the run uses, as the engine reads it) and the budget bars.
 */
import { moneyMicros, parseDurationMs } from '../api/grammar.js';
import type { SpecV2 } from '../api/v2/runbook.js';
import { effectiveSpec, runSpec } from '../engine/spec/effective.js';
import { dependencies } from '../engine/spec/graph.js';
import { allStages } from '../engine/spec/workflow-stages.js';
import type { AgentRunbookJson } from '../kube/types.js';

export interface RunGraph {
  nodes: { name: string; workflow: string; agent: string }[];
  /** `after`: a sequential workflow's order; `needs`: dependsOn or a use of the stage's outputs. */
  edges: { from: string; to: string; kind: 'needs' | 'after' }[];
}

export interface BudgetBar {
  name: 'tokens' | 'cost' | 'time';
  /** Used and limit in the same unit: tokens, dollars, seconds. */
  used: number;
  limit: number;
}

export function runGraph(spec: SpecV2): RunGraph {
  const stages = allStages(spec);
  const needs = dependencies(stages);
  return {
    nodes: stages.map((stage) => ({ name: stage.name, workflow: stage.workflow, agent: stage.agent ?? '' })),
    edges: stages.flatMap((stage) => {
      const found = needs.get(stage.name);
      return [
        ...(found?.required ?? []).map((from) => ({ from, to: stage.name, kind: 'needs' as const })),
        ...(found?.after ? [{ from: found.after, to: stage.name, kind: 'after' as const }] : []),
      ];
    }),
  };
}

export function budgetBars(runbook: AgentRunbookJson, spec: SpecV2, now: Date): BudgetBar[] {
  const budgets = spec.budgets;
  const status = runbook.status ?? {};
  const bars: BudgetBar[] = [];
  const tokens = budgets?.tokens?.total;
  if (tokens) bars.push({ name: 'tokens', used: status.usage?.tokens ?? 0, limit: tokens });
  const cost = budgets?.cost?.maxUSD;
  if (cost !== undefined)
    bars.push({
      name: 'cost',
      used: moneyMicros(status.usage?.costUSD ?? 0) / 1e6,
      limit: moneyMicros(cost) / 1e6,
    });
  const limit = status.clock?.limit;
  if (limit && status.startTime) {
    const end = status.completionTime ? Date.parse(status.completionTime) : now.getTime();
    const paused =
      (status.clock?.pausedSeconds ?? 0) +
      (status.clock?.pausedSince ? (end - Date.parse(status.clock.pausedSince)) / 1000 : 0);
    bars.push({
      name: 'time',
      used: Math.max(0, (end - Date.parse(status.startTime)) / 1000 - paused),
      limit: parseDurationMs(limit) / 1000,
    });
  }
  return bars;
}

/** The graph and the budgets of the spec the run uses; undefined parts when the spec cannot say. */
export function runSummary(runbook: AgentRunbookJson, now: Date) {
  try {
    const spec = effectiveSpec(runSpec(runbook));
    return { graph: runGraph(spec), budgets: budgetBars(runbook, spec, now) };
  } catch {
    return { graph: undefined, budgets: [] };
  }
}
