/** The stage graph: which stages wait for which, by execution mode. */
import type { SpecV2, StageV2 } from '../api/v2/runbook.js';
import { referencedStages } from './substitution.js';

export interface StageDependencies {
  /**
   * Stages that must succeed first: dependsOn, and (as in Tekton, where using a task's result
   * orders the tasks) every stage whose outputs the stage's inputs refer to.
   */
  required: string[];
  /** In pipeline mode, the previous stage, which must have finished (in any way) first. */
  after?: string;
}

export function stagesOf(spec: SpecV2): StageV2[] {
  return spec.agents.pipeline ?? [];
}

export function dependencies(spec: SpecV2): Map<string, StageDependencies> {
  const pipeline = spec.execution?.mode === 'pipeline' || spec.execution?.mode === undefined;
  const stages = stagesOf(spec);
  const names = new Set(stages.map((stage) => stage.name));
  return new Map(
    stages.map((stage, index) => {
      const previous = pipeline && index > 0 ? stages[index - 1]?.name : undefined;
      const referenced = [...referencedStages(stage.config?.inputs ?? {})].filter(
        (name) => names.has(name) && name !== stage.name,
      );
      const required = [...new Set([...(stage.dependsOn ?? []), ...referenced])];
      return [stage.name, { required, ...(previous ? { after: previous } : {}) }];
    }),
  );
}

/** A problem with the graph that no run can get past: an unknown stage or a cycle. */
export function graphProblem(spec: SpecV2): string | undefined {
  const names = new Set(stagesOf(spec).map((stage) => stage.name));
  for (const stage of stagesOf(spec)) {
    const unknown = (stage.dependsOn ?? []).find((name) => !names.has(name));
    if (unknown) return `stage ${stage.name} depends on ${unknown}, which is not a stage of this runbook`;
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const deps = new Map([...dependencies(spec)].map(([name, { required }]) => [name, required]));
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
