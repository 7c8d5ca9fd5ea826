/** Turns a ready stage into a JobPlan: its agent's container, resolved inputs, budget and deadline. */
import { ENV } from '../api/agent-contract.js';
import type { AgentCatalog } from '../api/catalog.js';
import type { StageV2 } from '../api/v2/runbook.js';
import type { Problem } from './agent-report.js';
import { resolveAgent, describeCatalogMiss } from './catalog.js';
import { stageDeadlineSeconds } from './deadlines.js';
import { resolveInputs } from './inputs.js';
import { jobName } from './naming.js';
import type { SubstitutionScope } from './substitution.js';
import type { JobPlan, RunbookObject } from './types.js';

export interface PlanContext {
  runbook: RunbookObject;
  execution: string;
  catalog: AgentCatalog;
  scope: SubstitutionScope;
  /** What is left of the run's time limit, if it has one. */
  runRemainingMs?: number;
  /** Tokens and dollars the Job may spend. */
  grant: { tokens?: number; costUSD?: string };
}

export function planStageJob(
  context: PlanContext,
  stage: StageV2,
  attempt: number,
): { plan: JobPlan } | { problem: Problem } {
  const { runbook, execution, catalog, scope } = context;
  const agent = stage.agent ?? stage.name;
  const entry = resolveAgent(catalog, agent, stage.version);
  if (!entry && !stage.image) {
    return {
      problem: { reason: 'AgentNotFound', message: describeCatalogMiss(catalog, agent, stage.version) },
    };
  }
  const resolved = resolveInputs(stage, scope);
  if ('problem' in resolved) return resolved;

  const deadline = stageDeadlineSeconds(runbook.spec, stage, context.runRemainingMs);
  const budget = { ...context.grant, ...(deadline !== undefined ? { deadlineSeconds: deadline } : {}) };
  const { name, namespace, uid, generation } = runbook.metadata;
  const command = stage.command ?? entry?.command;
  const plan: JobPlan = {
    name: jobName(name, stage.name, execution, attempt, uid),
    stage: stage.name,
    agent,
    attempt,
    execution,
    generation,
    image: stage.image ?? entry?.image ?? '',
    ...(command ? { command } : {}),
    ...(entry?.args && !stage.command ? { args: entry.args } : {}),
    ...(entry?.resources ? { resources: entry.resources } : {}),
    env: {
      ...(entry?.env ?? {}),
      [ENV.runbook]: name,
      [ENV.namespace]: namespace,
      [ENV.stage]: stage.name,
      [ENV.agent]: agent,
      ...(stage.version ? { [ENV.version]: stage.version } : {}),
      [ENV.attempt]: String(attempt),
      [ENV.inputs]: JSON.stringify(resolved.inputs),
      [ENV.parameters]: JSON.stringify(stage.config?.parameters ?? {}),
      [ENV.outputs]: JSON.stringify(stage.config?.outputs ?? {}),
      [ENV.budget]: JSON.stringify(budget),
    },
    ...(deadline !== undefined ? { activeDeadlineSeconds: deadline } : {}),
    ...(stage.serviceAccountName ? { serviceAccountName: stage.serviceAccountName } : {}),
    automountServiceAccountToken: stage.automountServiceAccountToken === true,
  };
  return { plan };
}
