/**
 * The phases of a run, on their own so that the console's front end can share them without
 * bundling the schema library.
 */
export const RUNBOOK_PHASES = [
  'Queued',
  'Pending',
  'Running',
  'WaitingForApproval',
  'Succeeded',
  'Failed',
  'TimedOut',
  'BudgetExceeded',
  'Cancelled',
] as const;

/** Phases a run does not leave without a spec change or a rerun. */
export const FINISHED_RUN_PHASES: readonly string[] = [
  'Succeeded',
  'Failed',
  'TimedOut',
  'BudgetExceeded',
  'Cancelled',
];
