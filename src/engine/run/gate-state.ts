/**
 * Where each quality gate stands in a run, kept in status.gates so that a restart neither forgets
 * a decision nor restarts a gate's timeout. Pure: the gates' statuses, Events, and the stages they
 * hold are returned for decide() to apply.
 */
import type { EventReason } from '../../api/reasons.js';
import type { StatusV2 } from '../../api/v2/runbook.js';
import { parseDurationMs } from '../../api/grammar.js';
import { timestamp } from '../model/conditions.js';
import { gateApplies, gateDecision, GATE_ANNOTATION_PREFIX } from '../spec/gates.js';
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

/** The command that approves a gate, as it works when printed. */
function approvalCommand(run: Run, gate: string): string {
  const { name, namespace } = run.input.runbook.metadata;
  return `kubectl annotate agentrunbook ${name} -n ${namespace} ${GATE_ANNOTATION_PREFIX}${gate}=approved --overwrite`;
}

/** Evaluates the gates and the decisions made on them. */
export function evaluateGates(run: Run): GateOutcome {
  const gates = run.spec.quality?.gates ?? [];
  const known = new Map((run.status.gates ?? []).map((gate) => [gate.name, gate]));
  const { annotations, generation } = run.input.runbook.metadata;
  const outcome: GateOutcome = { statuses: [], events: [], waiting: [], held: new Map() };
  const event = (type: EngineEvent['type'], reason: EventReason, message: string) =>
    outcome.events.push({ type, reason, message });
  const requeue = (ms: number) => {
    outcome.requeueAfterMs = Math.min(outcome.requeueAfterMs ?? ms, Math.max(1, Math.ceil(ms)));
  };
  for (const gate of gates) {
    const previous = known.get(gate.name);
    let status: GateStatus = previous ? { ...previous } : { name: gate.name, phase: 'Pending' };
    if (!previous) {
      const applies = gateApplies(gate, run.spec);
      status = {
        name: gate.name,
        phase: applies.applies ? 'Pending' : 'NotApplicable',
        message: applies.message,
      };
      if (!applies.applies)
        event('Normal', 'GateSkipped', `gate ${gate.name} does not apply: ${applies.message}`);
    }
    outcome.statuses.push(status);
    if (status.phase !== 'Pending') continue;
    // A gate on a stage starts waiting when that stage could otherwise start.
    const guarded = gate.before ? run.stages.get(gate.before) : undefined;
    const reached = !gate.before || (guarded !== undefined && dependenciesMet(run, gate.before, guarded));
    if (!reached) {
      if (gate.before) outcome.held.set(gate.before, `gate ${gate.name}`);
      continue;
    }
    if (!status.since) {
      status.since = timestamp(run.now);
      if (gate.timeout)
        status.deadline = timestamp(new Date(run.now.getTime() + parseDurationMs(gate.timeout)));
      event(
        'Normal',
        'ApprovalPending',
        `gate ${gate.name} waits for a decision: ${approvalCommand(run, gate.name)}`,
      );
    }
    const decision = gateDecision(annotations, gate.name, generation);
    if (decision && 'record' in decision) {
      const { decision: verdict, user, time } = decision.record;
      const approved = verdict === 'approved';
      status.phase = approved ? 'Approved' : 'Rejected';
      status.decidedAt = time;
      status.decidedBy = user;
      status.generation = generation;
      status.message = `${verdict} by ${user}`;
      event(
        approved ? 'Normal' : 'Warning',
        approved ? 'GateApproved' : 'GateRejected',
        `gate ${gate.name} ${verdict} by ${user}`,
      );
      if (!approved)
        outcome.ending ??= { reason: 'GateRejected', message: `gate ${gate.name} was rejected by ${user}` };
      continue;
    }
    if (decision) status.message = `waiting for a decision: ${decision.stale}`;
    if (gate.timeout) {
      const left = Date.parse(status.since) + parseDurationMs(gate.timeout) - run.now.getTime();
      if (left <= 0) {
        status.phase = 'TimedOut';
        status.decidedAt = timestamp(run.now);
        status.message = `no decision within ${gate.timeout}`;
        outcome.ending ??= {
          reason: 'GateTimedOut',
          message: `gate ${gate.name} had no decision within ${gate.timeout}`,
        };
        continue;
      }
      requeue(left);
    }
    outcome.waiting.push(`gate ${gate.name} (${approvalCommand(run, gate.name)})`);
    if (gate.before) outcome.held.set(gate.before, `gate ${gate.name}`);
    else outcome.startBlocked ??= `gate ${gate.name}`;
  }
  return outcome;
}
