/**
 * Deterministic names and labels: the same runbook, stage, execution and attempt always give the
 * same Job name, so a restarted operator finds its Jobs instead of creating them again.
 */
import { shortHash } from './hash.js';

const MAX_NAME = 63;

/** The id of one run of a runbook: its generation, plus a hash of the rerun annotation when set. */
export function executionId(generation: number, rerun: string | undefined): string {
  return rerun ? `g${generation}-r${shortHash([rerun], 8)}` : `g${generation}`;
}

const RETRY_SUFFIX = /-t[0-9a-f]{8}$/;

/** The id of the run that retries run `retried` (of the same generation and rerun, `base`). */
export function retryExecutionId(base: string, retried: string): string {
  return `${base}-t${shortHash([retried], 8)}`;
}

/** Whether `execution` is `base` or one of its retries. */
export function isRunOf(base: string, execution: string | undefined): execution is string {
  return execution !== undefined && execution.replace(RETRY_SUFFIX, '') === base;
}

/**
 * The run whose workspaces a run uses: a retry keeps those of the run it retries, where its kept
 * stages left their files.
 */
export function workspaceExecution(execution: string): string {
  return execution.replace(RETRY_SUFFIX, '');
}

function dnsLabelPart(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** A valid DNS-1123 label of at most 63 characters, readable where it can be, unique by hash. */
export function jobName(
  runbook: string,
  stage: string,
  execution: string,
  attempt: number,
  uid: string,
): string {
  const hash = shortHash([uid, runbook, stage, execution, attempt]);
  const readable = [dnsLabelPart(runbook), dnsLabelPart(stage)].filter(Boolean).join('-');
  const room = MAX_NAME - hash.length - 1;
  const prefix = readable.slice(0, room).replace(/-+$/, '');
  return prefix ? `${prefix}-${hash}` : `arb-${hash}`;
}

/** A label value (at most 63 characters); long values keep a readable prefix and a hash. */
export function labelValue(value: string): string {
  if (value.length <= MAX_NAME) return value;
  const hash = shortHash([value]);
  return `${value.slice(0, MAX_NAME - hash.length - 1).replace(/[^a-zA-Z0-9]+$/, '')}-${hash}`;
}

/** The NetworkPolicy that confines an agent's Pods in a namespace: one per agent name there. */
export function egressPolicyName(agent: string): string {
  const hash = shortHash(['egress', agent]);
  const readable = `agent-egress-${dnsLabelPart(agent)}`
    .slice(0, MAX_NAME - hash.length - 1)
    .replace(/-+$/, '');
  return `${readable}-${hash}`;
}

/** The PersistentVolumeClaim of a workspace for one run: a DNS label, unique by hash. */
export function claimName(runbook: string, workspace: string, execution: string, uid: string): string {
  const hash = shortHash(['claim', uid, runbook, workspace, execution]);
  const readable = [dnsLabelPart(runbook), dnsLabelPart(workspace)].filter(Boolean).join('-');
  const prefix = readable.slice(0, MAX_NAME - hash.length - 1).replace(/-+$/, '');
  return prefix ? `${prefix}-${hash}` : `ws-${hash}`;
}

/** The label value that keeps the Pods of a run which share a ReadWriteOnce workspace together. */
export function colocationGroup(uid: string, execution: string): string {
  return shortHash(['colocate', uid, execution], 16);
}

/**
 * A CachedResult's name: its stage, then its key's first hex digits, then a hash of the Job that
 * produced it, so one attempt's result always gets one name (a restart stores it again as the same
 * object) and two runs that produced the same key at once keep both.
 */
export function cachedResultName(stage: string, key: string, job: string): string {
  const hex = key.replace(/^sha256:/, '').slice(0, 16);
  const hash = shortHash(['cached', job], 6);
  const readable = dnsLabelPart(stage)
    .slice(0, MAX_NAME - hex.length - hash.length - 2)
    .replace(/-+$/, '');
  return [readable || 'stage', hex, hash].join('-');
}
