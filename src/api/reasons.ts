/**
 * Every reason the operator gives: on the conditions of AgentRunbooks and Agents, on each stage's
 * status, on Events (`kubectl describe`) and on notifications. One table, so code can only name a
 * reason listed here (the types below are its keys) and the API reference lists them all
 * (`make generate` writes them into docs/api-reference.md). Tekton's PipelineRunReason and
 * cert-manager's documented reason constants are the model. The one reason not listed: the
 * Alerting condition, whose reason is the firing alert's own name (alertReason in
 * engine/run/alerts.ts).
 */
type Where = 'condition' | 'stage' | 'event' | 'notification';

interface ReasonDoc {
  readonly on: readonly Where[];
  readonly means: string;
}

export const REASONS = {
  // Where a run stands (Ready, Progressing and the conditions beside them).
  Pending: { on: ['condition'], means: 'Ready is False: no stage of the run has started yet.' },
  Running: {
    on: ['condition'],
    means: 'Ready is False: stages of the run have started and it has not finished.',
  },
  WaitingForApproval: {
    on: ['condition'],
    means:
      'A quality gate waits for a decision (ApprovalPending); with nothing running, the run clock stops.',
  },
  Succeeded: { on: ['condition', 'stage'], means: 'Every stage succeeded (Ready True), or this stage did.' },
  CompletedViaFallback: {
    on: ['condition'],
    means: 'The run finished through its fallback workflow (Ready True, Degraded True).',
  },
  CompletedWithFailures: {
    on: ['condition'],
    means: 'The run finished; some stages (failurePolicy continue) failed or were skipped.',
  },
  StagesRunning: { on: ['condition'], means: 'Progressing is True: the named stages run.' },
  Waiting: {
    on: ['condition'],
    means: 'Progressing is True: stages wait for their dependencies or retry time.',
  },
  Suspended: {
    on: ['condition'],
    means: 'spec.suspend is true: no new stage starts; running stages finish.',
  },
  FallbackTriggered: { on: ['condition'], means: 'FallbackActive is True: the fallback workflow runs.' },
  FallbackFinished: {
    on: ['condition'],
    means: 'FallbackActive is False: the fallback workflow has finished.',
  },
  CircuitOpen: {
    on: ['condition', 'stage'],
    means: "An agent's circuit breaker is open: its stages wait until it lets a probe through (Degraded).",
  },
  CostAlertThresholdReached: {
    on: ['condition'],
    means: 'BudgetAlert is True: the run spent at least budgets.cost.alertThreshold.',
  },
  NoAlertFiring: { on: ['condition'], means: 'Alerting is False: no alert of spec.monitoring.alerts fires.' },

  // How a run ended before all its stages finished.
  RunCancelled: { on: ['condition', 'event'], means: 'spec.status is Cancelled: the run was stopped.' },
  InvalidDependencies: {
    on: ['condition'],
    means:
      'The stages depend on each other in a way no run can get past (a spec stored before the webhook checked it).',
  },
  EmergencyStop: {
    on: ['condition', 'notification'],
    means: 'An emergency trigger stopped everything; the emergency steps ran and the run ended.',
  },
  DeadlineExceeded: {
    on: ['condition', 'stage'],
    means:
      'The run used its time limit (time waiting at gates not counted), or an attempt ran past its deadline.',
  },
  TokenBudgetExceeded: { on: ['condition'], means: 'The run used its token budget.' },
  CostBudgetExceeded: { on: ['condition'], means: 'The run used its cost budget.' },
  GateRejected: { on: ['condition', 'event'], means: 'A quality gate was rejected.' },
  GateTimedOut: { on: ['condition', 'event'], means: 'A quality gate had no decision within its timeout.' },
  StageFailed: {
    on: ['condition', 'event'],
    means: 'A stage failed with failurePolicy abort (the default), which ends the run.',
  },
  FallbackFailed: { on: ['condition'], means: 'A stage of the fallback workflow failed.' },
  ValidationFailed: {
    on: ['condition', 'stage', 'event'],
    means: 'A validation agent with failOnCritical reported a critical finding.',
  },

  // A runbook the operator parks: Failed until its spec changes or it is rerun.
  InvalidSpec: {
    on: ['condition', 'stage', 'event'],
    means:
      'The spec cannot be run (past the bounds, colliding stage names), or an Agent spec is invalid (Accepted False).',
  },
  InternalError: {
    on: ['condition', 'stage', 'event'],
    means: 'The engine failed or produced a status the schema refuses; the message says what.',
  },
  StatusRejected: {
    on: ['condition', 'stage', 'event'],
    means: 'The API server refused the status the operator wrote.',
  },
  JobRejected: {
    on: ['condition', 'stage', 'event'],
    means: "The API server refused a stage's Job or its workspace claim.",
  },
  OutputsRejected: {
    on: ['condition', 'stage', 'event'],
    means: 'The API server refused the ConfigMap holding outputs too large for the status.',
  },
  ReconcileBudgetExceeded: {
    on: ['condition', 'stage', 'event'],
    means:
      "Deciding the runbook took longer than the operator's budget per reconcile (--reconcile-budget), twice in a row.",
  },

  // The concurrency queue.
  WaitingForSlot: {
    on: ['condition'],
    means:
      'Queued is True: the run waits for a slot under a concurrency limit, with its place in the message.',
  },
  Queued: { on: ['condition', 'event'], means: 'The run waits in the concurrency queue (phase Queued).' },
  Started: {
    on: ['condition', 'stage'],
    means: 'The run left the queue and started, or the stage runs its attempt.',
  },
  Cancelled: { on: ['condition'], means: 'The run was cancelled while it waited in the queue.' },

  // spec.template (TemplateResolved False; the runbook stays Pending).
  TemplateNotFound: { on: ['condition', 'event'], means: 'No template of the name spec.template gives.' },
  NoTemplateMatches: {
    on: ['condition', 'event'],
    means: "No template's selector rules select the runbook's context.",
  },
  TemplateRenderFailed: { on: ['condition', 'event'], means: 'The chosen template could not be rendered.' },
  TemplateInvalid: {
    on: ['condition', 'event'],
    means: 'The chosen template makes a runbook the schema refuses.',
  },
  TemplatesUnavailable: { on: ['condition', 'event'], means: 'This operator does not read templates.' },

  // Agents.
  Valid: { on: ['condition'], means: 'Accepted is True: stages that name this agent run it.' },

  // Where a stage stands, and why it failed or did not run.
  Unschedulable: {
    on: ['stage'],
    means:
      "The stage's Pod waits for a node the scheduler can place it on; the stage deadline bounds the wait.",
  },
  WaitingForBudget: { on: ['stage'], means: 'The stage waits until the budget can grant it an attempt.' },
  DependencyFailed: {
    on: ['stage'],
    means: 'A dependency of the stage failed, or was skipped because one of its own did, so it was skipped.',
  },
  ItemsRunning: {
    on: ['stage'],
    means: 'A forEach stage runs its items; the message counts them, the items have their own entries.',
  },
  ForEachNotAList: {
    on: ['stage'],
    means:
      "The stage's forEach did not give a list (the message says what it gave), or gave one kept outside the status.",
  },
  TooManyItems: {
    on: ['stage'],
    means: "The stage's forEach gave more items than the operator allows (fanOut.maxItems).",
  },
  ItemFailed: {
    on: ['stage'],
    means: 'An item of the forEach stage failed (onItemFailure fail), or every item did (collect).',
  },
  ChildRunbookFailed: {
    on: ['stage'],
    means: "The stage's child runbook ended other than Succeeded; the message says how and why.",
  },
  ChildRunbookNotFound: { on: ['stage'], means: 'No AgentRunbook of the name runbook.name gives.' },
  ChildRunbookInvalid: {
    on: ['stage'],
    means:
      'The child runbook the stage would run is one the schema refuses (e.g. an input that is no context field).',
  },
  RunbookDepthExceeded: {
    on: ['stage'],
    means: 'The child runbook would be nested deeper than runbooks may be (4).',
  },
  ConditionNotMet: { on: ['stage'], means: "The stage's `when` condition is false, so it was skipped." },
  ConditionFailed: {
    on: ['stage'],
    means: "The stage's `when` condition could not be evaluated (an error, a non-boolean, over its cost).",
  },
  DependencySkipped: {
    on: ['stage'],
    means:
      'The stage reads an output of a dependency that `when` skipped and that declares no skippedOutputs for it.',
  },
  Aborted: { on: ['stage'], means: 'The stage was running when the run ended; its Job was deleted.' },
  EmergencyStopped: { on: ['stage'], means: 'An emergency stopped the stage or kept it from running.' },
  StoppedForFallback: { on: ['stage'], means: 'The fallback workflow took over while the stage ran.' },
  FallbackActive: { on: ['stage'], means: 'The fallback workflow took over before the stage ran.' },
  RunStopped: {
    on: ['stage', 'event'],
    means: 'The run ended before the stage ran; as an Event, Jobs of a stopped run were deleted.',
  },
  AgentFailed: { on: ['stage'], means: 'The agent failed: it reported an error class, or exited non-zero.' },
  AgentNotFound: { on: ['stage'], means: 'No agent of the name and version the stage gives.' },
  ModelPriceMissing: {
    on: ['stage'],
    means: 'The LLM agent would call a model that has no price, so its cost could not count.',
  },
  InputsTooLarge: {
    on: ['stage'],
    means: "The stage's inputs, parameters and budget are too large to pass as JSON.",
  },
  WorkspaceMountConflict: {
    on: ['stage'],
    means: "A workspace would be mounted over the agent's HOME or one of its volumes.",
  },
  WorkspaceNodeConflict: {
    on: ['stage'],
    means: "A ReadWriteOnce workspace's node differs from the node the agent's nodeSelector requires.",
  },
  UnresolvedReference: { on: ['stage'], means: 'A ${...} reference in the inputs names nothing.' },
  InputValidationFailed: { on: ['stage'], means: "The inputs do not match the stage's inputSchema." },
  OutputsTooLarge: {
    on: ['stage'],
    means: 'The agent reported outputs larger than the operator keeps (--max-output-bytes).',
  },
  OutputMissing: { on: ['stage'], means: 'The agent did not report a declared output.' },
  OutputTypeMismatch: { on: ['stage'], means: 'An output is not of its declared JSON type.' },
  TerminationMessageMissing: { on: ['stage'], means: 'The agent wrote no report.' },
  TerminationMessageMalformed: { on: ['stage'], means: 'The report does not follow the agent contract.' },
  TerminationMessageTooLarge: {
    on: ['stage'],
    means: 'The report is larger than a termination message may be.',
  },
  AgentBudgetExceeded: { on: ['stage'], means: 'The attempt reported more tokens or cost than its grant.' },
  ReportTooLarge: {
    on: ['stage'],
    means: 'The report the agent put in its log is larger than the operator reads.',
  },
  ReportLogMissing: {
    on: ['stage'],
    means: "The agent's log has no report line of the size and sha256 it announced.",
  },
  ReportLogUnreadable: {
    on: ['stage'],
    means: "The agent's log, which holds its report, could not be read.",
  },
  ReportLogCorrupt: {
    on: ['stage'],
    means: "The report line in the agent's log is not the JSON it announced.",
  },

  // Events that tell the story of a run.
  RunStarted: {
    on: ['event'],
    means:
      'A run started: a new generation, a rerun, or a retry (its message names the run retried and the stages kept).',
  },
  RunSucceeded: { on: ['event'], means: 'The run finished with every stage done.' },
  RunFailed: { on: ['event'], means: 'The run ended Failed; the message says why.' },
  RunTimedOut: { on: ['event'], means: 'The run ended TimedOut.' },
  RunBudgetExceeded: { on: ['event'], means: 'The run ended BudgetExceeded.' },
  StageRetrying: { on: ['event'], means: 'A stage failed and is retried at the time the message gives.' },
  StageSkipped: {
    on: ['event'],
    means: 'A stage was skipped: its `when` condition is false, or a dependency did not succeed.',
  },
  Cached: {
    on: ['stage'],
    means:
      'The stage reused a stored result (a CachedResult) instead of running: nothing ran and nothing was spent.',
  },
  CacheHit: {
    on: ['event'],
    means: 'A stage reused a stored result; the message says where it came from and what it saved.',
  },
  CacheStored: { on: ['event'], means: "A stage's result was stored for reuse, as the CachedResult named." },
  CacheStoreFailed: {
    on: ['event'],
    means: "A stage's result could not be stored for reuse (the message says why); the run goes on.",
  },
  StageUnschedulable: { on: ['event'], means: "A stage's Pod waits for a node." },
  UsageCapped: {
    on: ['event'],
    means: 'A stage reported usage beyond what the status can hold; it is kept at the most.',
  },
  FallbackActivated: { on: ['event'], means: 'The fallback workflow took over.' },
  EmergencyNotification: { on: ['event'], means: 'An emergency notify target is told.' },
  StepNotification: { on: ['event'], means: 'A notify target of a workflow step is told.' },
  GateSkipped: {
    on: ['event'],
    means: 'A quality gate does not apply to this run (its condition is false).',
  },
  ApprovalPending: {
    on: ['event'],
    means: 'A quality gate waits for a decision; the message gives the command.',
  },
  GateApproved: { on: ['event'], means: 'A quality gate was approved.' },
  BudgetAlert: { on: ['event'], means: 'The run spent at least budgets.cost.alertThreshold.' },
  AlertFiring: { on: ['event'], means: 'An alert of spec.monitoring.alerts fires.' },
  AlertFailed: { on: ['event'], means: "An alert's condition could not be evaluated." },
  AlertResolved: { on: ['event'], means: 'An alert that fired no longer does.' },
  SpecChanged: { on: ['event'], means: 'Jobs of the run a new spec replaced were deleted.' },
  Rerun: { on: ['event'], means: 'Jobs of the run a rerun replaced were deleted.' },
  HistoryLimit: { on: ['event'], means: 'Jobs of finished runs past spec.history.limit were deleted.' },
  HistoryExpired: {
    on: ['event'],
    means: 'Jobs of finished runs past spec.history.ttlAfterFinished were deleted.',
  },

  // Notifications to the targets of workflow steps.
  StepStarted: { on: ['notification'], means: 'A workflow step with notify started.' },
  WorkflowTerminated: { on: ['notification'], means: 'A workflow with notify ended.' },
} as const satisfies Record<string, ReasonDoc>;

export type Reason = keyof typeof REASONS;
type ReasonOn<W extends Where> = {
  [K in Reason]: W extends (typeof REASONS)[K]['on'][number] ? K : never;
}[Reason];
/** Reasons of the conditions of runbooks and agents. */
export type ConditionReason = ReasonOn<'condition'>;
/** Reasons in status.stages[].reason. */
export type StageReason = ReasonOn<'stage'>;
/** Reasons of Events on runbooks. */
export type EventReason = ReasonOn<'event'>;
/** Reasons of notifications to people. */
export type NotificationReason = ReasonOn<'notification'>;

/** The reasons a runbook is parked for: Failed until its spec changes or it is rerun. */
export type ParkReason =
  | 'InvalidSpec'
  | 'InternalError'
  | 'StatusRejected'
  | 'JobRejected'
  | 'OutputsRejected'
  | 'ReconcileBudgetExceeded';
