import { Type } from '@sinclair/typebox';
import {
  Obj,
  Str,
  StringEnum,
  Int,
  Num,
  Bool,
  Money,
  Duration,
  Name,
  NamedList,
  Timestamp,
  AnyValue,
  FreeObject,
} from '../schema-kit.js';
import { ErrorClass } from './error-class.js';
import { SEVERITIES } from './monitoring.js';
import { TEMPLATE_KIND_NAMES } from '../group.js';
import { DECISIONS } from './gate-decision.js';
import { Approvals } from './quality.js';
import { RUNBOOK_PHASES } from '../phases.js';
import { DIGEST_PATTERN, StageCacheStatus } from './cache.js';
import { ItemsStatus, STAGE_OR_ITEM_PATTERN } from './branching.js';

export const STAGE_PHASES = ['Pending', 'Running', 'Retrying', 'Succeeded', 'Failed', 'Skipped'] as const;
export const GATE_PHASES = ['Pending', 'Approved', 'Rejected', 'TimedOut', 'NotApplicable'] as const;

export const Usage = Obj('Resources used, as reported by the agents.', {
  tokens: Type.Optional(Int('Tokens used.', { minimum: 0 })),
  costUSD: Type.Optional(Money('Cost accrued.')),
  capped: Type.Optional(
    Bool(
      'A figure reached the most the status can hold (9007199254740991 tokens, $999999999.999999): what was used is at least this.',
    ),
  ),
});

export const WORKFLOWS = ['main', 'fallback', 'emergency', 'validation'] as const;

export const Resources = Obj(
  "What the agent's process used, as its reports (the optional resources block) say: the most memory of any attempt, the CPU time of all attempts.",
  {
    memoryPeakBytes: Type.Optional(Int('Peak resident memory in bytes.', { minimum: 0 })),
    cpuSeconds: Type.Optional(Num('CPU time in seconds, user and system.', { minimum: 0 })),
  },
);

const Rate = (description: string) => Num(description, { minimum: 0, maximum: 1 });

/** A stage's name in the status: a stage, or an item of a forEach stage (<stage>[<index>]). */
const StageOrItem = (description: string) =>
  Str(description, { pattern: STAGE_OR_ITEM_PATTERN, maxLength: 71 });

export const StageMetrics = Obj('Metrics of one stage in this run.', {
  name: StageOrItem('Name of the stage, or <stage>[<index>] for an item of a forEach stage.'),
  attempts: Int('Attempts started.', { minimum: 0 }),
  successRate: Type.Optional(Rate('Succeeded attempts over finished attempts, when any finished.')),
  durationSeconds: Type.Optional(
    Num('From its first start to its finish, once it finished.', { minimum: 0 }),
  ),
});

export const ExecutionMetrics = Obj(
  "The run's execution metrics (the specification's ExecutionMetrics), recomputed whenever the status changes. Rates count attempts: a retried failure is one failed attempt.",
  {
    durationSeconds: Type.Optional(
      Num('From startTime to completionTime, once the run finished.', { minimum: 0 }),
    ),
    retryCount: Int("Attempts after each stage's first.", { minimum: 0 }),
    successRate: Type.Optional(Rate('Succeeded attempts over finished attempts, when any finished.')),
    errorRate: Type.Optional(Rate('Failed attempts over finished attempts, when any finished.')),
    fallbackTriggered: Bool('Whether the fallback workflow took over.'),
    tokensUsed: Int('Tokens the agents reported (as usage.tokens).', { minimum: 0 }),
    costAccrued: Money('Dollars the agents reported (as usage.costUSD).'),
    memoryPeakBytes: Type.Optional(Int("The largest peak memory an agent's report carried.", { minimum: 0 })),
    cpuSeconds: Type.Optional(Num("CPU seconds the agents' reports carried, summed.", { minimum: 0 })),
    cachedStages: Type.Optional(
      Int('Stages whose result was reused from the cache (nothing ran).', { minimum: 0 }),
    ),
    tokensSaved: Type.Optional(
      Int('Tokens the reused results cost when they were produced.', { minimum: 0 }),
    ),
    costSaved: Type.Optional(Money('Dollars the reused results cost when they were produced.')),
    stages: Type.Optional(NamedList('Per stage, in the order of status.stages.', StageMetrics, 512)),
  },
);

export const AlertStatus = Obj(
  'An alert of spec.monitoring.alerts that fires now, or that could not be evaluated.',
  {
    name: Name('Name of the alert.'),
    severity: StringEnum('Severity of the alert.', SEVERITIES),
    state: StringEnum('Firing: its condition holds; Error: evaluating it failed.', [
      'Firing',
      'Error',
    ] as const),
    since: Timestamp('When it started firing (or failing).'),
    message: Type.Optional(Str('Why it could not be evaluated.', { maxLength: 1024 })),
  },
);

const OutputRef = Obj('Where an output kept outside the status is, and what it begins with.', {
  configMap: Str("Name of the ConfigMap, in the runbook's namespace.", { maxLength: 253 }),
  key: Str('Key of the output in the ConfigMap; its value is the output as JSON.', { maxLength: 253 }),
  bytes: Int('Size of the output as JSON, in bytes.', { minimum: 0 }),
  preview: Str("The output's first characters (a string's text, anything else as JSON).", {
    maxLength: 1024,
  }),
  digest: Type.Optional(
    Str("sha256 of the output's JSON: what the cache keys of the stages that read it hold.", {
      pattern: DIGEST_PATTERN,
      maxLength: 71,
    }),
  ),
});

export const StageStatus = Obj('Where one stage stands.', {
  name: StageOrItem('Name of the stage, or <stage>[<index>] for an item of a forEach stage.'),
  workflow: Type.Optional(
    StringEnum('The workflow the stage belongs to: main, fallback, emergency or validation.', WORKFLOWS),
  ),
  phase: StringEnum('Phase of the stage.', STAGE_PHASES),
  attempt: Type.Optional(Int('Current attempt, from 1.', { minimum: 0 })),
  job: Type.Optional(Str('Name of the Job of the current attempt.', { maxLength: 63 })),
  child: Type.Optional(
    Str('Name of the child AgentRunbook of the current attempt (a stage that runs a runbook).', {
      maxLength: 63,
    }),
  ),
  startTime: Type.Optional(Timestamp('When the first attempt started.')),
  completionTime: Type.Optional(Timestamp('When the stage finished.')),
  nextAttemptTime: Type.Optional(Timestamp('When the next retry may start.')),
  reason: Type.Optional(Str('CamelCase reason of the last transition.', { maxLength: 128 })),
  message: Type.Optional(Str('Human-readable detail of the last transition.', { maxLength: 4096 })),
  lastError: Type.Optional(ErrorClass),
  outputs: Type.Optional(
    Type.Record(Type.String(), AnyValue('An output value.'), {
      description: 'Outputs the agent reported, except those kept outside the status (outputRefs).',
    }),
  ),
  outputRefs: Type.Optional(
    Type.Record(Type.String(), OutputRef, {
      description:
        'Outputs too large for the status, by name: each is kept in a ConfigMap owned by the runbook. ${<stage>.outputs.<name>} passes one whole to a later stage, as a file.',
    }),
  ),
  usage: Type.Optional(Usage),
  resources: Type.Optional(Resources),
  cache: Type.Optional(StageCacheStatus),
  items: Type.Optional(ItemsStatus),
  grant: Type.Optional(
    Obj(
      'What the current attempt may spend, reserved from the run budgets when it started; a report above it fails the stage with AgentBudgetExceeded.',
      {
        tokens: Type.Optional(Int('Tokens granted.', { minimum: 0 })),
        costUSD: Type.Optional(Money('Dollars granted.')),
      },
    ),
  ),
});

export const GateStatus = Obj('Where one quality gate stands.', {
  name: Name('Name of the gate.'),
  phase: StringEnum('Phase of the gate.', GATE_PHASES),
  since: Type.Optional(Timestamp('When the gate started waiting.')),
  deadline: Type.Optional(
    Timestamp("When the gate times out without a decision (since plus the gate's timeout)."),
  ),
  decidedAt: Type.Optional(Timestamp('When the gate was decided.')),
  decidedBy: Type.Optional(
    Str('The users who approved the gate, or the one who rejected it.', { maxLength: 2816 }),
  ),
  generation: Type.Optional(Int('The generation of the spec the decision was made for.', { minimum: 0 })),
  message: Type.Optional(Str('Detail of the decision.', { maxLength: 1024 })),
  policy: Type.Optional(
    Str('The GatePolicy or ClusterGatePolicy that added the gate (kind/name).', { maxLength: 317 }),
  ),
  approvals: Type.Optional(Approvals),
  approved: Type.Optional(Int('Approvals counted so far.', { minimum: 0 })),
  decisions: Type.Optional(
    Type.Array(
      Obj('A GateDecision that counts.', {
        name: Str('The GateDecision.', { maxLength: 253 }),
        user: Str('Who decided.', { maxLength: 256 }),
        decision: StringEnum('The decision.', DECISIONS),
        comment: Type.Optional(Str('Why.', { maxLength: 2048 })),
        time: Timestamp('When.'),
      }),
      { description: 'The decisions that count, oldest first (the last 16).', maxItems: 16 },
    ),
  ),
});

export const NoticeRecord = Obj('A notice to people this run gave (the operator never gives one twice).', {
  name: Str('The notice: its event, and for a gate the gate (GateWaiting/<gate>).', { maxLength: 128 }),
  time: Timestamp('When it was given.'),
});

export const TemplateStatus = Obj(
  'The template this runbook was made from (spec.template), resolved once per generation: the run uses spec as resolved here.',
  {
    kind: StringEnum('Kind of the template.', TEMPLATE_KIND_NAMES),
    name: Name('Name of the template.'),
    observedGeneration: Int('Generation of the runbook it was resolved for.', { minimum: 0 }),
    reason: Str('Why this template: named, or the selector rules that held.', { maxLength: 1024 }),
    spec: FreeObject(
      'The runbook spec made from the template, checked against the AgentRunbook schema before it is stored; the run uses it.',
    ),
  },
);

export const Condition = Obj('A condition in the shape of metav1.Condition.', {
  type: Str('Type of the condition in CamelCase, e.g. Ready.', { maxLength: 316 }),
  status: StringEnum('Status of the condition.', ['True', 'False', 'Unknown'] as const),
  observedGeneration: Type.Optional(Int('Generation the condition was set for.', { minimum: 0 })),
  lastTransitionTime: Timestamp('When the status last changed.'),
  reason: Str('CamelCase reason of the last transition.', { maxLength: 1024, minLength: 1 }),
  message: Str('Human-readable detail.', { maxLength: 32768 }),
});

export const Status = Obj('Where the runbook stands, written by the operator.', {
  observedGeneration: Type.Optional(Int('Generation of the spec this status describes.', { minimum: 0 })),
  execution: Type.Optional(
    Str(
      'Identifier of the current run: the generation, a hash of the i2s.studio/rerun annotation when set, and for a retry (the i2s.studio/retry annotation, set to the execution of a run that ended Failed, TimedOut or BudgetExceeded) a hash of the run it retries.',
      {
        maxLength: 63,
      },
    ),
  ),
  phase: Type.Optional(StringEnum('Phase of the run.', RUNBOOK_PHASES)),
  progress: Type.Optional(Str('Finished stages out of all stages, e.g. 2/5.', { maxLength: 32 })),
  startTime: Type.Optional(Timestamp('When the run started.')),
  completionTime: Type.Optional(Timestamp('When the run finished.')),
  clock: Type.Optional(
    Obj(
      "The run clock against its time limit (execution.timeout, budgets.time.total). It stops while the run waits at a gate (phase WaitingForApproval); the gate's own timeout bounds that wait.",
      {
        limit: Type.Optional(Duration("The run's time limit.")),
        pausedSeconds: Type.Optional(
          Int('Seconds the run spent waiting at gates, not counted against the limit.', { minimum: 0 }),
        ),
        pausedSince: Type.Optional(Timestamp('When the current wait at a gate began; the clock is stopped.')),
        deadline: Type.Optional(
          Timestamp('When the run times out if it does not wait at a gate again; absent while it waits.'),
        ),
      },
    ),
  ),
  usage: Type.Optional(Usage),
  metrics: Type.Optional(ExecutionMetrics),
  alerts: Type.Optional(
    NamedList('Alerts of spec.monitoring.alerts that fire now or failed to evaluate.', AlertStatus, 64),
  ),
  stages: Type.Optional(
    NamedList('One entry per stage, and per item of a forEach stage that runs now.', StageStatus, 512),
  ),
  workspaces: Type.Optional(
    NamedList(
      "The run's workspaces: the claim each mounts, and the node where the stages sharing a ReadWriteOnce one run.",
      Obj('Where one workspace of spec.workspaces is for this run.', {
        name: Name('Name of the workspace.'),
        claim: Type.Optional(Str('The PersistentVolumeClaim the stages mount.', { maxLength: 253 })),
        node: Type.Optional(
          Str('The node its stages are kept on, once the first of them was scheduled.', { maxLength: 253 }),
        ),
      }),
      16,
    ),
  ),
  gates: Type.Optional(
    NamedList("One entry per quality gate: the spec's, and those gate policies add.", GateStatus, 96),
  ),
  notices: Type.Optional(
    NamedList(
      "Notices to people this run gave (the operator configuration's notifications), recorded before they are sent.",
      NoticeRecord,
      40,
    ),
  ),
  workflow: Type.Optional(
    Obj('Which workflow is running, and what counts towards the fallback and emergency triggers.', {
      active: StringEnum('The workflow whose stages run now.', WORKFLOWS),
      fallbackTriggers: Type.Optional(
        Int('Failures of the main workflow whose error class is a fallback trigger condition.', {
          minimum: 0,
        }),
      ),
      emergencyTriggers: Type.Optional(
        Int(
          'Failures, in any workflow but the emergency one, whose error class is an emergency trigger condition.',
          { minimum: 0 },
        ),
      ),
      emergencyCause: Type.Optional(Str('What set off the emergency workflow.', { maxLength: 1024 })),
    }),
  ),
  effective: Type.Optional(
    FreeObject('Effective execution and budget settings the run used, after environment overlays.'),
  ),
  template: Type.Optional(TemplateStatus),
  revision: Type.Optional(
    Obj(
      'The ControllerRevision that holds this spec (agentrunbook history lists them; rollback restores one).',
      {
        name: Str('Name of the ControllerRevision.', { maxLength: 253 }),
        number: Int('Its revision number, counting up from 1 with each spec change.', { minimum: 1 }),
        hash: Str('Hash of the spec it holds.', { maxLength: 16 }),
        observedGeneration: Int('Generation of the spec it was checked for.', { minimum: 0 }),
      },
    ),
  ),
  conditions: Type.Optional(
    Type.Array(Condition, {
      description: 'Conditions: Ready, Progressing, and the reasons a run stopped.',
      maxItems: 32,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
    }),
  ),
});
