/** The stage graph: which stages wait for which, within each workflow. */
import { referencedStages } from './substitution.js';
import type { RunStage } from './workflow-stages.js';
import { whenStages } from './when.js';
import { forEachStage } from './for-each.js';

export interface StageDependencies {
  /**
   * Stages that must finish first: dependsOn, and (as in Tekton, where using a task's result
   * orders the tasks) every stage of the same workflow whose outputs the stage's inputs or `when`
   * or forEach use. Each must succeed, or have been skipped by its own `when`.
   */
  required: string[];
  /** In a sequential workflow (pipeline mode, workflow steps), the previous stage, which must have finished first. */
  after?: string;
}

export function dependencies(stages: RunStage[]): Map<string, StageDependencies> {
  const result = new Map<string, StageDependencies>();
  const workflows = new Set(stages.map((stage) => stage.workflow));
  for (const workflow of workflows) {
    const group = stages.filter((stage) => stage.workflow === workflow);
    const byName = new Map<string, string>();
    for (const stage of group) {
      byName.set(stage.name, stage.name);
      if (stage.alias) byName.set(stage.alias, stage.name);
    }
    group.forEach((stage, index) => {
      const previous = stage.sequential && index > 0 ? group[index - 1]?.name : undefined;
      const listed = forEachStage(stage);
      const referenced = [
        ...referencedStages(stage.config?.inputs ?? {}),
        ...whenStages(stage),
        ...(listed ? [listed] : []),
      ]
        .map((name) => byName.get(name))
        .filter((name): name is string => name !== undefined && name !== stage.name);
      const required = [...new Set([...(stage.dependsOn ?? []), ...referenced])];
      result.set(stage.name, { required, ...(previous ? { after: previous } : {}) });
    });
  }
  return result;
}

/** A problem with the graph that no run can get past: an unknown stage or a cycle. */
export function graphProblem(stages: RunStage[]): string | undefined {
  const names = new Set(stages.map((stage) => stage.name));
  for (const stage of stages) {
    const unknown = (stage.dependsOn ?? []).find((name) => !names.has(name));
    if (unknown) return `stage ${stage.name} depends on ${unknown}, which is not a stage of this runbook`;
  }
  // Both kinds of edge count: a stage that uses a later stage's outputs in pipeline mode waits forever.
  const deps = new Map(
    [...dependencies(stages)].map(([name, { required, after }]) => [
      name,
      after ? [...required, after] : required,
    ]),
  );
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, path: string[]): string[] | undefined => {
    if (state.get(name) === 'done') return undefined;
    if (state.get(name) === 'visiting') return [...path.slice(path.indexOf(name)), name];
    state.set(name, 'visiting');
    for (const dep of deps.get(name) ?? []) {
      const cycle = visit(dep, [...path, name]);
      if (cycle) return cycle;
    }
    state.set(name, 'done');
    return undefined;
  };
  for (const name of deps.keys()) {
    const cycle = visit(name, []);
    if (cycle) return `the stages depend on each other in a cycle: ${cycle.join(' -> ')}`;
  }
  return undefined;
}
