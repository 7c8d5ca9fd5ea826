/**
 * The specification's RunbookOptimizer as analysis: what in a runbook's spec does nothing or holds
 * the run back, each finding with the change that fixes it. `agentrunbook optimize` reports them
 * (and applies them with --write); the validating webhook returns them as admission warnings.
 */
import { isDeepStrictEqual } from 'node:util';
import { CONDUCTOR } from '../engine/spec/conductor.js';
import type { SpecV2, StageV2 } from '../api/v2/runbook.js';
import { dependencies } from '../engine/spec/graph.js';
import { mainStages } from '../engine/spec/workflow-stages.js';

export type FindingRule =
  | 'unused-core-agent'
  | 'repeated-stage'
  | 'parallelizable-stages'
  | 'redundant-dependency'
  | 'parallelism-above-width';

export interface Finding {
  rule: FindingRule;
  field: string;
  message: string;
}

/** The parallelism the API server fills in: not the user's choice, so not worth a finding. */
const DEFAULT_PARALLELISM = 5;

type Graph = Map<string, string[]>;

/** Every stage reachable from `from` along the graph's edges (its transitive prerequisites). */
function reachable(graph: Graph, from: string): Set<string> {
  const seen = new Set<string>();
  const stack = [...(graph.get(from) ?? [])];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    if (seen.has(next)) continue;
    seen.add(next);
    stack.push(...(graph.get(next) ?? []));
  }
  return seen;
}

/** Every stage's transitive prerequisites, each worked out once. */
const closureOf = (graph: Graph) => new Map([...graph.keys()].map((name) => [name, reachable(graph, name)]));

/**
 * The most stages of the graph that can run at once: its largest antichain, which (Dilworth) is
 * the stage count less a maximum matching in the transitive closure (Kuhn's algorithm).
 */
export function graphWidth(graph: Graph): number {
  const names = [...graph.keys()];
  const closure = closureOf(graph);
  const matchedBy = new Map<string, string>();
  const augment = (from: string, visited: Set<string>): boolean => {
    for (const to of closure.get(from) ?? new Set<string>()) {
      if (visited.has(to)) continue;
      visited.add(to);
      const other = matchedBy.get(to);
      if (other === undefined || augment(other, visited)) {
        matchedBy.set(to, from);
        return true;
      }
    }
    return false;
  };
  let matching = 0;
  for (const name of names) if (augment(name, new Set())) matching += 1;
  return names.length - matching;
}

/** The main workflow's stages and what each waits for; `ordered` keeps pipeline mode's list order. */
function mainGraph(spec: SpecV2, ordered: boolean): Graph {
  const deps = dependencies(mainStages(spec));
  return new Map(
    [...deps].map(([name, dep]) => [name, [...dep.required, ...(ordered && dep.after ? [dep.after] : [])]]),
  );
}

const isPipeline = (spec: SpecV2) => (spec.execution?.mode ?? 'pipeline') === 'pipeline';
const hasSteps = (spec: SpecV2) => Boolean(spec.workflows?.main?.steps?.length);

function unusedCoreAgents(spec: SpecV2): Finding[] {
  const steps = Object.values(spec.workflows ?? {}).flatMap((workflow) => workflow.steps ?? []);
  const used = new Set([
    ...steps.map((step) => step.agent ?? step.name),
    ...(spec.agents.pipeline ?? []).map((stage) => stage.agent ?? stage.name),
  ]);
  // The conductor is the operator itself, which never runs it as a stage.
  return Object.keys(spec.agents.core ?? {})
    .filter((name) => !used.has(name) && name !== CONDUCTOR)
    .map((name) => ({
      rule: 'unused-core-agent' as const,
      field: `spec.agents.core.${name}`,
      message: `core agent ${name} is not run by any workflow step or stage: remove it`,
    }));
}

/** What makes two stages do the same work: all but their names (and the order of dependsOn). */
const work = (stage: StageV2) => ({ ...stage, name: '', dependsOn: [...(stage.dependsOn ?? [])].sort() });

/** Pairs [kept, repeat] of pipeline stages that run the same agent with the same settings and inputs. */
function repeatedStages(spec: SpecV2): [string, string][] {
  const stages = spec.agents.pipeline ?? [];
  const pairs: [string, string][] = [];
  const repeats = new Set<string>();
  stages.forEach((stage, index) => {
    if (stage.agent === undefined || repeats.has(stage.name)) return;
    for (const later of stages.slice(index + 1)) {
      if (!repeats.has(later.name) && isDeepStrictEqual(work(stage), work(later))) {
        pairs.push([stage.name, later.name]);
        repeats.add(later.name);
      }
    }
  });
  return pairs;
}

/** Whether the stage waits for `dependency` through another of its prerequisites already. */
const isRedundant = (graph: Graph, closure: Map<string, Set<string>>, stage: string, dependency: string) =>
  (graph.get(stage) ?? []).some((other) => other !== dependency && closure.get(other)?.has(dependency));

function redundantDependencies(spec: SpecV2): Finding[] {
  const graph = mainGraph(spec, false);
  const closure = closureOf(graph);
  return (spec.agents.pipeline ?? []).flatMap((stage) => {
    return (stage.dependsOn ?? [])
      .filter((dependency) => isRedundant(graph, closure, stage.name, dependency))
      .map((dependency) => ({
        rule: 'redundant-dependency' as const,
        field: `spec.agents.pipeline[${stage.name}].dependsOn`,
        message: `stage ${stage.name} waits for ${dependency} through another of its dependencies already: drop it from dependsOn`,
      }));
  });
}

/** Every finding, in the order `optimize --write` applies their fixes. */
export function analyzeRunbook(spec: SpecV2): Finding[] {
  const findings: Finding[] = [...unusedCoreAgents(spec)];
  for (const [kept, repeat] of repeatedStages(spec)) {
    findings.push({
      rule: 'repeated-stage',
      field: `spec.agents.pipeline[${repeat}]`,
      message: `stage ${repeat} runs the same agent with the same settings and inputs as ${kept}: use ${kept}'s outputs instead`,
    });
  }
  if (hasSteps(spec)) return findings;
  const width = graphWidth(mainGraph(spec, false));
  if (isPipeline(spec) && width > 1) {
    findings.push({
      rule: 'parallelizable-stages',
      field: 'spec.execution.mode',
      message: `pipeline mode runs the ${spec.agents.pipeline?.length ?? 0} stages one at a time, but only dependsOn and output references order them: in hybrid mode up to ${width} could run at once`,
    });
  }
  findings.push(...redundantDependencies(spec));
  const parallelism = spec.execution?.parallelism;
  const usable = isPipeline(spec) ? 1 : width;
  if (
    !isPipeline(spec) &&
    parallelism !== undefined &&
    parallelism !== DEFAULT_PARALLELISM &&
    usable > 0 &&
    parallelism > usable
  ) {
    findings.push({
      rule: 'parallelism-above-width',
      field: 'spec.execution.parallelism',
      message: `parallelism ${parallelism} is more than the ${usable} stages the graph can ever run at once: set it to ${usable}`,
    });
  }
  return findings;
}

/** Rewrites references to stage `from` into references to `to`. */
function redirect(value: unknown, from: string, to: string): unknown {
  if (typeof value === 'string') return value.split(`\${${from}.outputs`).join(`\${${to}.outputs`);
  if (Array.isArray(value)) return value.map((item) => redirect(item, from, to));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redirect(item, from, to)]));
  return value;
}

function withoutRepeat(spec: SpecV2, kept: string, repeat: string): SpecV2 {
  const pipeline = (spec.agents.pipeline ?? [])
    .filter((stage) => stage.name !== repeat)
    .map((stage) => {
      const dependsOn = stage.dependsOn?.map((name) => (name === repeat ? kept : name));
      return {
        ...stage,
        ...(dependsOn ? { dependsOn: [...new Set(dependsOn)] } : {}),
        ...(stage.config?.inputs
          ? {
              config: {
                ...stage.config,
                inputs: redirect(stage.config.inputs, repeat, kept) as Record<string, unknown>,
              },
            }
          : {}),
      };
    });
  const gates = spec.quality?.gates?.map((gate) =>
    gate.before === repeat ? { ...gate, before: kept } : gate,
  );
  const workflows = spec.workflows
    ? (Object.fromEntries(
        Object.entries(spec.workflows).map(([name, workflow]) => [
          name,
          {
            ...workflow,
            ...(workflow.steps
              ? {
                  steps: workflow.steps.map((step) =>
                    step.agent === repeat ? { ...step, agent: kept } : step,
                  ),
                }
              : {}),
          },
        ]),
      ) as SpecV2['workflows'])
    : undefined;
  return {
    ...spec,
    agents: { ...spec.agents, pipeline },
    ...(gates ? { quality: { ...spec.quality, gates } } : {}),
    ...(workflows ? { workflows } : {}),
  };
}

/** The spec with every finding's fix applied, and the findings it fixed. */
export function optimizeRunbook(original: SpecV2): { spec: SpecV2; findings: Finding[] } {
  let spec = original;
  const findings = analyzeRunbook(original);
  const core = { ...spec.agents.core };
  for (const finding of findings.filter((f) => f.rule === 'unused-core-agent'))
    Reflect.deleteProperty(core, finding.field.slice('spec.agents.core.'.length));
  if (spec.agents.core) spec = { ...spec, agents: { ...spec.agents, core } };
  for (const [kept, repeat] of repeatedStages(spec)) spec = withoutRepeat(spec, kept, repeat);
  if (!hasSteps(spec) && isPipeline(spec) && graphWidth(mainGraph(spec, false)) > 1)
    spec = { ...spec, execution: { ...spec.execution, mode: 'hybrid' } };
  const graph = mainGraph(spec, false);
  const closure = closureOf(graph);
  const pipeline = (spec.agents.pipeline ?? []).map((stage) =>
    stage.dependsOn
      ? {
          ...stage,
          dependsOn: stage.dependsOn.filter(
            (dependency) => !isRedundant(graph, closure, stage.name, dependency),
          ),
        }
      : stage,
  );
  if (spec.agents.pipeline) spec = { ...spec, agents: { ...spec.agents, pipeline } };
  const width = graphWidth(mainGraph(spec, false));
  const parallelism = spec.execution?.parallelism;
  if (!hasSteps(spec) && !isPipeline(spec) && parallelism !== undefined && parallelism > width)
    spec = { ...spec, execution: { ...spec.execution, parallelism: width } };
  return { spec, findings };
}
