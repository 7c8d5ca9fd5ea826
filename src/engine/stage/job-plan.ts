/** Turns a ready stage into a JobPlan: its agent's container, resolved inputs, budget and deadline. */
import { ENV, type LlmSettings } from '../../api/agent-contract.js';
import type { AgentCatalog, CatalogEntry } from '../../api/catalog.js';
import type { StageV2 } from '../../api/v2/runbook.js';
import { hidesPath, mountPoint, SCRATCH_DEFAULTS, type PodTemplate } from '../../api/pod-template.js';
import type { Problem } from './agent-report.js';
import { agentKey, resolveAgent, describeCatalogMiss } from '../spec/catalog.js';
import { stageDeadlineSeconds } from './deadlines.js';
import { resolveInputs } from './inputs.js';
import { egressPolicyName, jobName } from '../model/naming.js';
import type { SubstitutionScope } from '../spec/substitution.js';
import type { ItemOf } from '../spec/workflow-stages.js';
import type { JobPlan, PlannedWorkspace, RunbookObject, StoredFile } from '../model/types.js';
import { colocationFor, HOSTNAME_LABEL, plannedWorkspaces } from './workspaces.js';

/**
 * A file's JSON also goes into the environment up to this size, for agents that read only the
 * environment. Small, because the operator's caches hold each Job and Pod with both copies (and
 * a single variable breaks near 128 KiB).
 */
const ENV_INLINE_BYTES = 4 * 1024;
/**
 * The most the files may hold together: they travel as Pod annotations, which the API server
 * bounds to 256 KiB in all. Outputs kept outside the status pass as file references and cost little.
 */
export const MAX_ASSIGNMENT_BYTES = 192 * 1024;

export interface PlanContext {
  runbook: RunbookObject;
  execution: string;
  catalog: AgentCatalog;
  scope: SubstitutionScope;
  /** What is left of the run's time limit, if it has one. */
  runRemainingMs?: number;
  /** Tokens and dollars the Job may spend. */
  grant: { tokens?: number; costUSD?: string };
  /** The run's workspaces that keep their stages on one node, and that node once known. */
  colocated?: { workspaces: ReadonlySet<string>; node?: string };
}

/** Why the stage's workspaces cannot be mounted or placed as its agent is: at run time, as agents change. */
function workspaceProblem(
  stage: StageV2,
  workspaces: PlannedWorkspace[],
  template: PodTemplate | undefined,
  home: string,
  node: string | undefined,
): Problem | undefined {
  const mounts = (template?.volumeMounts ?? []).map((mount) => mountPoint(mount.mountPath));
  for (const workspace of workspaces) {
    const path = mountPoint(workspace.mountPath);
    const clash = [home, ...mounts].find((other) => hidesPath(path, other));
    if (clash !== undefined) {
      return {
        reason: 'WorkspaceMountConflict',
        message: `stage ${stage.name} mounts workspace ${workspace.name} at ${path}, which would hide ${clash}, where its agent has HOME or a volume: give the workspace another mountPath`,
      };
    }
  }
  const pinned = template?.nodeSelector?.[HOSTNAME_LABEL];
  if (node && pinned !== undefined && pinned !== node) {
    return {
      reason: 'WorkspaceNodeConflict',
      message: `stage ${stage.name} shares a ReadWriteOnce workspace with stages that ran on node ${node}, but its agent's nodeSelector requires node ${pinned}: use a ReadWriteMany claim or place the agents alike`,
    };
  }
  return undefined;
}

/**
 * What an LLM agent calls and what it costs: the catalog entry's endpoint and model (or the model
 * the stage's parameters name), priced from the catalog. A model without a price cannot start:
 * its cost could not count against the budgets.
 */
function llmSettings(
  catalog: AgentCatalog,
  entry: CatalogEntry | undefined,
  stage: StageV2,
): { settings: LlmSettings } | { problem: Problem } | undefined {
  if (!entry?.llm) return undefined;
  const asked = stage.config?.parameters?.model;
  const model = typeof asked === 'string' ? asked : entry.llm.model;
  // The agent's own prices first, then the operator's.
  const priced = [entry.prices, catalog.prices].find((prices) => prices && Object.hasOwn(prices, model));
  const price = priced?.[model];
  if (!price) {
    return {
      problem: {
        reason: 'ModelPriceMissing',
        message: `agent ${entry.name} would call model ${model}, which neither the agent nor the operator's catalog has a price for (prices.${model})`,
      },
    };
  }
  return { settings: { baseURL: entry.llm.baseURL, model, price } };
}

/** The files an agent reads its assignment from: inputs, parameters and budget, bounded in size. */
function assignmentFiles(
  context: PlanContext,
  stage: StageV2,
  inputs: unknown,
): { files: JobPlan['files']; deadline: number | undefined } | { problem: Problem } {
  const deadline = stageDeadlineSeconds(context.runbook.spec, stage, context.runRemainingMs);
  const budget = { ...context.grant, ...(deadline !== undefined ? { deadlineSeconds: deadline } : {}) };
  const files = {
    inputs: JSON.stringify(inputs),
    parameters: JSON.stringify(stage.config?.parameters ?? {}),
    budget: JSON.stringify(budget),
  };
  const assignmentBytes = Object.values(files).reduce((sum, text) => sum + Buffer.byteLength(text), 0);
  if (assignmentBytes > MAX_ASSIGNMENT_BYTES) {
    return {
      problem: {
        reason: 'InputsTooLarge',
        message: `the stage's inputs, parameters and budget are ${assignmentBytes} bytes as JSON, over the limit of ${MAX_ASSIGNMENT_BYTES} bytes: pass large outputs whole (\${<stage>.outputs.<name>}), which sends them as files`,
      },
    };
  }
  return { files, deadline };
}

/** The agent contract's environment (api/agent-contract.ts) for one attempt. */
function agentEnv(
  runbook: RunbookObject,
  stage: StageV2,
  attempt: number,
  agent: { name: string; entry: CatalogEntry | undefined; home: string; llm: LlmSettings | undefined },
  files: JobPlan['files'],
  workspaces: PlannedWorkspace[],
): Record<string, string> {
  const small = (name: string, text: string) =>
    Buffer.byteLength(text) <= ENV_INLINE_BYTES ? { [name]: text } : {};
  const { entry, llm } = agent;
  return {
    HOME: agent.home,
    ...(entry?.env ?? {}),
    [ENV.runbook]: runbook.metadata.name,
    [ENV.namespace]: runbook.metadata.namespace,
    [ENV.stage]: stage.name,
    [ENV.agent]: agent.name,
    ...(stage.version ? { [ENV.version]: stage.version } : {}),
    [ENV.attempt]: String(attempt),
    ...small(ENV.inputs, files.inputs),
    ...small(ENV.parameters, files.parameters),
    [ENV.outputs]: JSON.stringify(stage.config?.outputs ?? {}),
    [ENV.budget]: files.budget,
    ...(llm ? { [ENV.llm]: JSON.stringify(llm) } : {}),
    ...(workspaces.length
      ? {
          [ENV.workspaces]: JSON.stringify(
            Object.fromEntries(workspaces.map((workspace) => [workspace.name, workspace.mountPath])),
          ),
        }
      : {}),
  };
}

export function planStageJob(
  context: PlanContext,
  stage: StageV2 & { item?: ItemOf },
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
  const stored = new Map<string, StoredFile>();
  const item = stage.item && { value: stage.item.value, index: stage.item.index };
  const resolved = resolveInputs(stage, { ...scope, files: stored, ...(item ? { item } : {}) });
  if ('problem' in resolved) return resolved;
  const assignment = assignmentFiles(context, stage, resolved.inputs);
  if ('problem' in assignment) return assignment;
  const { files, deadline } = assignment;
  const llm = llmSettings(catalog, entry, stage);
  if (llm && 'problem' in llm) return llm;
  const { name, uid, generation } = runbook.metadata;
  const command = stage.command ?? entry?.command;
  const template = entry?.podTemplate;
  const serviceAccountName = stage.serviceAccountName ?? template?.serviceAccountName;
  const home = entry?.env?.HOME ?? SCRATCH_DEFAULTS.home;
  const workspaces = plannedWorkspaces({ runbook, execution }, stage);
  const colocation = colocationFor(
    { runbook, execution },
    stage,
    context.colocated?.workspaces ?? new Set(),
    context.colocated?.node,
  );
  const conflict = workspaceProblem(stage, workspaces, template, home, colocation?.node);
  if (conflict) return { problem: conflict };
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
    env: agentEnv(
      runbook,
      stage,
      attempt,
      { name: agent, entry, home, llm: llm?.settings },
      files,
      workspaces,
    ),
    secretEnv: Object.entries(entry?.secretEnv ?? {}).map(([variable, ref]) => ({ name: variable, ...ref })),
    files,
    ...(Object.keys(context.grant).length ? { grant: context.grant } : {}),
    mounts: [...stored.values()],
    ...(deadline !== undefined ? { activeDeadlineSeconds: deadline } : {}),
    ...(serviceAccountName ? { serviceAccountName } : {}),
    automountServiceAccountToken:
      stage.automountServiceAccountToken ?? template?.automountServiceAccountToken ?? false,
    ...(template ? { podTemplate: template } : {}),
    ...(entry && agentKey(entry) !== agent ? { agentKey: agentKey(entry) } : {}),
    ...(entry?.egress
      ? {
          egress: {
            policy: egressPolicyName(agent),
            egress: entry.egress,
            ...(entry.owner ? { owner: entry.owner } : {}),
          },
        }
      : {}),
    scratch: {
      tmpSizeLimit: entry?.scratch?.tmpSizeLimit ?? SCRATCH_DEFAULTS.tmpSizeLimit,
      homeSizeLimit: entry?.scratch?.homeSizeLimit ?? SCRATCH_DEFAULTS.homeSizeLimit,
      home,
    },
    ...(workspaces.length ? { workspaces } : {}),
    ...(colocation ? { colocation } : {}),
  };
  return { plan };
}
