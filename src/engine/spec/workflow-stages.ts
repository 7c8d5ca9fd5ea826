/**
 * The stages of every workflow of a runbook, in one shape:
 * - main: workflows.main.steps when given, else agents.pipeline. A step that names a pipeline
 *   stage runs that stage's definition (the step's timeout and config override it) and answers
 *   to the stage's name in ${<stage>.outputs...}; a step may also name a core agent.
 * - fallback and emergency: their steps with action run, in order.
 * - validation: the enabled agents.deployment entries, after the main (or fallback) workflow.
 */
import type { SpecV2, StageV2 } from '../../api/v2/runbook.js';
import type { WORKFLOWS } from '../../api/v2/status.js';
import { deepMerge } from './effective.js';

export type Workflow = (typeof WORKFLOWS)[number];

export interface RunStage extends StageV2 {
  workflow: Workflow;
  /** Targets told when this step first starts (a workflow step's notify). */
  notify?: string[];
  /** The pipeline stage a main step runs; its outputs answer to this name too. */
  alias?: string;
  /** Stages of this workflow run one after another in list order. */
  sequential: boolean;
  /** An item of a forEach stage: the stage, the item's index and its value. */
  item?: ItemOf;
}

export interface ItemOf {
  of: string;
  index: number;
  value: unknown;
}

type Step = NonNullable<NonNullable<NonNullable<SpecV2['workflows']>['main']>['steps']>[number];

function stepStage(spec: SpecV2, step: Step, workflow: Workflow): RunStage {
  const agent = step.agent ?? step.name;
  const stage = spec.agents.pipeline?.find((s) => s.name === agent);
  const core = spec.agents.core?.[agent];
  const base: StageV2 = stage ?? {
    name: step.name,
    agent,
    ...(core?.version ? { version: core.version } : {}),
    ...(core?.image ? { image: core.image } : {}),
    ...(core?.command ? { command: core.command } : {}),
    config: { parameters: core?.config ?? {} },
  };
  const config = {
    ...base.config,
    ...(step.timeout ? { timeout: step.timeout } : {}),
    ...(step.config ? { parameters: deepMerge(base.config?.parameters ?? {}, step.config) } : {}),
  };
  return {
    ...base,
    name: step.name,
    agent: base.agent ?? base.name,
    dependsOn: [],
    config,
    workflow,
    sequential: true,
    ...(step.notify?.length ? { notify: step.notify } : {}),
    ...(stage ? { alias: stage.name } : {}),
  };
}

const terminates = (step: Step) => step.action === 'terminate';

/** The steps of a workflow that run: those before its first terminate step, which ends it there. */
function runnableSteps(steps: Step[] | undefined): Step[] {
  const all = steps ?? [];
  const stop = all.findIndex(terminates);
  return stop < 0 ? all : all.slice(0, stop);
}

function runSteps(spec: SpecV2, steps: Step[] | undefined, workflow: Workflow): RunStage[] {
  return runnableSteps(steps).map((step) => stepStage(spec, step, workflow));
}

/** The step that ends a workflow, if one does, with the steps after it (which never run). */
export function terminatingStep(
  spec: SpecV2,
  workflow: 'main' | 'fallback' | 'emergency',
): { step: Step; index: number; unreachable: Step[] } | undefined {
  const steps = spec.workflows?.[workflow]?.steps ?? [];
  const index = steps.findIndex(terminates);
  const step = steps[index];
  return step ? { step, index, unreachable: steps.slice(index + 1) } : undefined;
}

/** A stage of the main workflow, with the step (its index) that runs it or pulled it in. */
export interface MainEntry {
  stage: RunStage;
  step: number;
  /** Run because the step's pipeline stage depends on it, not named by a step. */
  pulledIn: boolean;
}

/**
 * The main workflow's steps, each after the pipeline stages its own pipeline stage depends on
 * (directly or not) that no step runs: a step pulls them in as a build target pulls in what it
 * depends on, so `agent: research` also runs normalize when research reads its outputs. A stage
 * some step runs stays where that step is.
 */
export function mainEntries(spec: SpecV2): MainEntry[] {
  const pipeline = new Map((spec.agents.pipeline ?? []).map((stage) => [stage.name, stage]));
  const steps = runnableSteps(spec.workflows?.main?.steps);
  const ran = new Set(steps.map((step) => step.agent ?? step.name));
  const entries: MainEntry[] = [];
  const pullIn = (name: string, step: number, visiting: Set<string>) => {
    const stage = pipeline.get(name);
    if (!stage || ran.has(name) || visiting.has(name)) return;
    visiting.add(name);
    for (const dependency of stage.dependsOn ?? []) pullIn(dependency, step, visiting);
    ran.add(name);
    entries.push({
      stage: { ...stage, dependsOn: [], workflow: 'main', sequential: true },
      step,
      pulledIn: true,
    });
  };
  steps.forEach((step, index) => {
    const stage = stepStage(spec, step, 'main');
    const visiting = new Set([stage.alias ?? stage.name]);
    for (const dependency of (stage.alias && pipeline.get(stage.alias)?.dependsOn) || [])
      pullIn(dependency, index, visiting);
    entries.push({ stage, step: index, pulledIn: false });
  });
  return entries;
}

export function mainStages(spec: SpecV2): RunStage[] {
  const steps = spec.workflows?.main?.steps;
  if (steps?.length) return mainEntries(spec).map((entry) => entry.stage);
  const sequential = (spec.execution?.mode ?? 'pipeline') === 'pipeline';
  return (spec.agents.pipeline ?? []).map((stage) => ({ ...stage, workflow: 'main' as const, sequential }));
}

export function fallbackStages(spec: SpecV2): RunStage[] {
  return runSteps(spec, spec.workflows?.fallback?.steps, 'fallback');
}

export function emergencyStages(spec: SpecV2): RunStage[] {
  return runSteps(spec, spec.workflows?.emergency?.steps, 'emergency');
}

/** The stage that runs deployment agent `name`: validate-<name>, with _ as - for a Job name. */
function validationStageName(name: string): string {
  return `validate-${name}`.replace(/_/g, '-');
}

export function validationStages(spec: SpecV2): RunStage[] {
  return Object.entries(spec.agents.deployment ?? {})
    .filter(([, agent]) => agent.enabled !== false)
    .map(([name, agent]) => ({
      name: validationStageName(name),
      agent: name,
      ...(agent.version ? { version: agent.version } : {}),
      ...(agent.image ? { image: agent.image } : {}),
      ...(agent.command ? { command: agent.command } : {}),
      config: { parameters: agent.config ?? {} },
      workflow: 'validation' as const,
      sequential: false,
    }));
}

/** Every stage a run may have, by name. */
export function allStages(spec: SpecV2): RunStage[] {
  return [...mainStages(spec), ...validationStages(spec), ...fallbackStages(spec), ...emergencyStages(spec)];
}

/** Notify targets of the emergency workflow. */
export function emergencyTargets(spec: SpecV2): string[] {
  return [...new Set((spec.workflows?.emergency?.steps ?? []).flatMap((step) => step.notify ?? []))];
}

/**
 * Stages of all workflows share one list in status: two stages with one name (a fallback step
 * named like a pipeline stage, validate-a_b beside validate-a-b) would overwrite each other's
 * state, and within a workflow a step answering to another step's name would hide its outputs,
 * so such specs are refused.
 */
export function stageNameProblems(spec: SpecV2): { field: string; message: string }[] {
  const named: { name: string; field: string; workflow: string; alias?: string }[] = [];
  const steps = (workflow: 'main' | 'fallback' | 'emergency') => {
    (spec.workflows?.[workflow]?.steps ?? []).forEach((step, index) => {
      if ((step.action ?? 'run') !== 'run') return;
      const agent = step.agent ?? step.name;
      const alias = spec.agents.pipeline?.some((stage) => stage.name === agent) ? agent : undefined;
      named.push({
        name: step.name,
        field: `spec.workflows.${workflow}.steps[${index}].name`,
        workflow,
        ...(alias ? { alias } : {}),
      });
    });
  };
  if (spec.workflows?.main?.steps?.length) {
    for (const { stage, step, pulledIn } of mainEntries(spec)) {
      named.push({
        name: stage.name,
        field: `spec.workflows.main.steps[${step}]${pulledIn ? '' : '.name'}`,
        workflow: 'main',
        ...(stage.alias ? { alias: stage.alias } : {}),
      });
    }
  } else {
    (spec.agents.pipeline ?? []).forEach((stage, index) =>
      named.push({ name: stage.name, field: `spec.agents.pipeline[${index}].name`, workflow: 'main' }),
    );
  }
  for (const name of Object.keys(spec.agents.deployment ?? {})) {
    named.push({
      name: validationStageName(name),
      field: `spec.agents.deployment.${name}`,
      workflow: 'validation',
    });
  }
  steps('fallback');
  steps('emergency');
  const owner = new Map<string, string>();
  const problems: { field: string; message: string }[] = [];
  for (const { name, field } of named) {
    const first = owner.get(name);
    if (first) problems.push({ field, message: `runs as stage ${name}, a name ${first} already has` });
    else owner.set(name, field);
  }
  // Within a workflow a step's outputs also answer to its pipeline stage's name (a fallback step
  // standing in for a main stage is meant to).
  for (const { name, field, alias, workflow } of named) {
    const other =
      alias && alias !== name
        ? named.find((entry) => entry.workflow === workflow && entry.name === alias)?.field
        : undefined;
    if (other) {
      problems.push({
        field,
        message: `runs pipeline stage ${alias ?? ''}, whose outputs would answer to the name that ${other} has`,
      });
    }
  }
  return problems;
}
