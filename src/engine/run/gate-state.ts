/**
 * Where each quality gate stands in a run, kept in status.gates so that a restart neither forgets
 * a decision nor restarts a gate's timeout. The run's gates are the spec's and those gate
 * policies add. A row is never believed on its own: its phase is worked out again on every
 * reconcile from the GateDecisions the admission webhook recorded; only when the gate began to
 * wait is kept (it starts the timeout, and can only be earlier than now). Pure: the gates'
 * statuses, Events, and the stages they hold are returned for decide() to apply.
 */
import type { EventReason } from '../../api/reasons.js';
import type { StatusV2 } from '../../api/v2/runbook.js';
import { parseDurationMs } from '../../api/grammar.js';
import { ANNOTATION_AUTHOR } from '../../api/labels.js';
import { timestamp } from '../model/conditions.js';
import { approvalCommand, eligibility, gateApplies, tallyDecisions } from '../spec/gates.js';
import { MAX_POLICY_GATES_PER_RUNBOOK, runGates, type RunGate } from '../spec/gate-policies.js';
import type { Run } from './run.js';
import { dependenciesMet } from './schedule.js';
import type { EngineEvent } from '../model/types.js';

type GateStatus = NonNullable<StatusV2['gates']>[number];

export interface GateOutcome {
  statuses: GateStatus[];
  events: EngineEvent[];
  /** A gate that ended the run: rejected, or timed out. */
  ending?: { reason: 'GateRejected' | 'GateTimedOut'; message: string };
  /** Gates waiting for a decision, with the command that makes it. */
  waiting: string[];
  /** Stages a gate holds back, and which gate. */
  held: Map<string, string>;
  /** A gate on the whole run that holds every stage. */
  startBlocked?: string;
  /** When the first waiting gate times out. */
  requeueAfterMs?: number;
}

export const NO_GATES: GateOutcome = { statuses: [], events: [], waiting: [], held: new Map() };

/** The decisions shown in a gate's row: the last 16. */
const SHOWN_DECISIONS = 16;

/** Evaluates the gates and the decisions made on them. */
export function evaluateGates(run: Run): GateOutcome {
  const { metadata } = run.input.runbook;
  const { name, namespace, generation, annotations } = metadata;
  const { gates, overflow } = runGates(run.spec, run.input.gatePolicies ?? [], {
    namespace,
    labels: metadata.labels ?? {},
    spec: run.spec,
  });
  const known = new Map((run.status.gates ?? []).map((gate) => [gate.name, gate]));
  const author = annotations?.[ANNOTATION_AUTHOR];
  const decisions = run.input.decisions ?? [];
  const outcome: GateOutcome = { statuses: [], events: [], waiting: [], held: new Map() };
  const event = (type: EngineEvent['type'], reason: EventReason, message: string) =>
    outcome.events.push({ type, reason, message });
  const requeue = (ms: number) => {
    outcome.requeueAfterMs = Math.min(outcome.requeueAfterMs ?? ms, Math.max(1, Math.ceil(ms)));
  };
  if (overflow) {
    outcome.startBlocked = `gate policies: they add ${overflow} gates past the ${MAX_POLICY_GATES_PER_RUNBOOK} one runbook may have`;
    outcome.waiting.push(outcome.startBlocked);
  }
  for (const gate of gates) {
    const previous = known.get(gate.name);
    const applies = gateApplies(gate, run.spec);
    const rules = eligibility(gate.approvals);
    const base: GateStatus = {
      name: gate.name,
      phase: applies.applies ? 'Pending' : 'NotApplicable',
      message: applies.message,
      ...(gate.policy ? { policy: gate.policy } : {}),
      ...(gate.approvals ? { approvals: gate.approvals } : {}),
    };
    outcome.statuses.push(base);
    const guardedSkipped = gate.before ? run.stages.get(gate.before) : undefined;
    if (applies.applies && guardedSkipped?.phase === 'Skipped' && !previous?.decidedAt) {
      base.phase = 'NotApplicable';
      base.message = `stage ${gate.before ?? ''} was skipped: ${guardedSkipped.message ?? ''}`.slice(0, 1024);
      continue;
    }
    if (!applies.applies) {
      if (!previous) event('Normal', 'GateSkipped', `gate ${gate.name} does not apply: ${applies.message}`);
      continue;
    }
    // A gate on a stage starts waiting when that stage could otherwise start. Once what it guards
    // has started, it holds nothing (it was decided, or came from a policy made later).
    const guarded = gate.before ? run.stages.get(gate.before) : undefined;
    const started = gate.before
      ? guarded !== undefined && guarded.phase !== 'Pending'
      : [...run.stages.values()].some((stage) => stage.phase !== 'Pending');
    const reached =
      started || !gate.before || (guarded !== undefined && dependenciesMet(run, gate.before, guarded));
    if (!reached) {
      if (gate.before) outcome.held.set(gate.before, `gate ${gate.name}`);
      continue;
    }
    const status = base;
    const since =
      previous?.since && Date.parse(previous.since) <= run.now.getTime() ? previous.since : undefined;
    status.since = since ?? timestamp(run.now);
    if (gate.timeout)
      status.deadline = timestamp(new Date(Date.parse(status.since) + parseDurationMs(gate.timeout)));
    if (!since && !started) {
      event(
        'Normal',
        'ApprovalPending',
        `gate ${gate.name} waits for ${describeNeed(gate)}: ${approvalCommand(name, namespace, gate.name)}`,
      );
    }
    const tally = tallyDecisions(gate.name, rules, decisions, generation, author);
    status.approved = tally.approvals;
    if (tally.counted.length) {
      status.decisions = tally.counted.slice(-SHOWN_DECISIONS).map((decision) => ({
        name: decision.name,
        user: decision.user,
        decision: decision.decision,
        ...(decision.comment ? { comment: decision.comment } : {}),
        time: decision.time,
      }));
    }
    if (tally.verdict) {
      settle(run, gate, status, tally.verdict, tally.counted, previous?.phase, event, outcome);
      continue;
    }
    if (started) {
      status.message = `${applies.message}; what it guards started without a decision that counts now`;
      continue;
    }
    status.message = `${applies.message}; waiting for ${describeNeed(gate, tally.approvals)}${tally.ignored.length ? `; not counted: ${tally.ignored.slice(0, 3).join('; ')}` : ''}`;
    if (gate.timeout) {
      const left = Date.parse(status.since) + parseDurationMs(gate.timeout) - run.now.getTime();
      if (left <= 0) {
        status.phase = 'TimedOut';
        status.decidedAt = status.deadline;
        status.message = `no decision within ${gate.timeout}`;
        outcome.ending ??= {
          reason: 'GateTimedOut',
          message: `gate ${gate.name} had no decision within ${gate.timeout}`,
        };
        continue;
      }
      requeue(left);
    }
    outcome.waiting.push(`gate ${gate.name} (${approvalCommand(name, namespace, gate.name)})`);
    if (gate.before) outcome.held.set(gate.before, `gate ${gate.name}`);
    else outcome.startBlocked ??= `gate ${gate.name}`;
  }
  return outcome;
}

function describeNeed(gate: RunGate, approved = 0): string {
  const needed = eligibility(gate.approvals).needed;
  const rules = [
    gate.approvals?.excludeAuthor ? 'not by the author' : '',
    gate.approvals?.groups?.length ? `from ${gate.approvals.groups.join(' or ')}` : '',
  ].filter(Boolean);
  const count = needed === 1 ? 'an approval' : `${needed} approvals (${approved} so far)`;
  return `${count}${rules.length ? ` ${rules.join(', ')}` : ''}`;
}

/** A gate the decisions settled: its row, and the Event the first time. */
function settle(
  run: Run,
  gate: RunGate,
  status: GateStatus,
  verdict: 'Approved' | 'Rejected',
  counted: readonly { user: string; decision: string; time: string }[],
  before: GateStatus['phase'] | undefined,
  event: (type: EngineEvent['type'], reason: EventReason, message: string) => void,
  outcome: GateOutcome,
): void {
  const deciding = counted.filter((decision) => decision.decision === verdict);
  const users =
    verdict === 'Rejected' ? (deciding[0]?.user ?? '') : deciding.map((decision) => decision.user).join(', ');
  status.phase = verdict;
  status.decidedAt = deciding.at(-1)?.time ?? timestamp(run.now);
  status.decidedBy = users.slice(0, 2816);
  status.generation = run.input.runbook.metadata.generation;
  status.message = `${verdict.toLowerCase()} by ${users}`.slice(0, 1024);
  if (before !== verdict) {
    event(
      verdict === 'Approved' ? 'Normal' : 'Warning',
      verdict === 'Approved' ? 'GateApproved' : 'GateRejected',
      `gate ${gate.name} ${verdict.toLowerCase()} by ${users}`,
    );
  }
  if (verdict === 'Rejected')
    outcome.ending ??= { reason: 'GateRejected', message: `gate ${gate.name} was rejected by ${users}` };
}
