/**
 * Where each quality gate stands in a run, kept in status.gates so that a restart neither forgets
 * a decision nor restarts a gate's timeout.
 */
import type { StatusV2 } from '../api/v2/runbook.js';
import { timestamp } from './conditions.js';
import { parseDurationMs } from '../api/durations.js';
import { gateApplies, gateDecision, GATE_ANNOTATION_PREFIX } from './gates.js';
import type { Run } from './run-state.js';

type GateStatus = NonNullable<StatusV2['gates']>[number];

export interface GateOutcome {
  /** A gate that ended the run: rejected, or timed out. */
  ending?: { reason: 'GateRejected' | 'GateTimedOut'; message: string };
  /** Gates waiting for a decision, with what to do about them. */
  waiting: string[];
}

/** Evaluates the gates, records decisions, and holds the stages (or the whole run) they guard. */
export function applyGates(run: Run): GateOutcome {
  const gates = run.spec.quality?.gates ?? [];
  const known = new Map((run.status.gates ?? []).map((gate) => [gate.name, gate]));
  const { name: runbook, annotations } = run.input.runbook.metadata;
  const outcome: GateOutcome = { waiting: [] };
  const statuses: GateStatus[] = [];
  for (const gate of gates) {
    let status: GateStatus = known.get(gate.name) ?? { name: gate.name, phase: 'Pending' };
    if (!known.has(gate.name)) {
      const applies = gateApplies(gate, run.spec);
      status = {
        name: gate.name,
        phase: applies.applies ? 'Pending' : 'NotApplicable',
        message: applies.message,
      };
      if (!applies.applies)
        run.event('Normal', 'GateSkipped', `gate ${gate.name} does not apply: ${applies.message}`);
    }
    statuses.push(status);
    if (status.phase !== 'Pending') continue;
    // A gate on a stage starts waiting when that stage could otherwise start.
    const guarded = gate.before ? run.stages.get(gate.before) : undefined;
    const reached = !gate.before || (guarded !== undefined && run.dependenciesMet(gate.before, guarded));
    if (!reached) {
      if (gate.before) run.held.set(gate.before, `gate ${gate.name}`);
      continue;
    }
    if (!status.since) {
      status.since = timestamp(run.now);
      run.event('Normal', 'ApprovalPending', `gate ${gate.name} waits for a decision`);
    }
    const decision = gateDecision(annotations, gate.name);
    if (decision) {
      status.phase = decision === 'approved' ? 'Approved' : 'Rejected';
      status.decidedAt = timestamp(run.now);
      status.message = `${decision} by annotation ${GATE_ANNOTATION_PREFIX}${gate.name}`;
      run.event(
        decision === 'approved' ? 'Normal' : 'Warning',
        decision === 'approved' ? 'GateApproved' : 'GateRejected',
        `gate ${gate.name} ${decision}`,
      );
      if (decision === 'rejected')
        outcome.ending ??= { reason: 'GateRejected', message: `gate ${gate.name} was rejected` };
      continue;
    }
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
      run.requeueAfter(left);
    }
    const how = `kubectl annotate agentrunbook ${runbook} ${GATE_ANNOTATION_PREFIX}${gate.name}=approved`;
    outcome.waiting.push(`gate ${gate.name} (${how})`);
    if (gate.before) run.held.set(gate.before, `gate ${gate.name}`);
    else run.startBlocked ??= `gate ${gate.name}`;
  }
  if (statuses.length) run.status.gates = statuses;
  return outcome;
}
