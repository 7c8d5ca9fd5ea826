/**
 * The status of an Agent or ClusterAgent: whether stages can run it (Accepted), which runbooks
 * name it, and its circuit breaker. Pure: the controller observes, this decides, the controller
 * writes only when the result differs from what is stored.
 */
import { agentProblems } from '../../api/agent-checks.js';
import type { AgentSpecV2, AgentStatusV2 } from '../../api/v2/agent.js';
import { setCondition, timestamp } from '../model/conditions.js';
import type { BreakerState } from './circuit-breaker.js';

/** Runbooks listed by name in the status; usedByCount counts them all. */
export const USED_BY_SHOWN = 32;

export interface AgentObservation {
  spec: AgentSpecV2;
  generation: number;
  status: AgentStatusV2 | undefined;
  /** namespace/name of each runbook whose stages would run this agent. */
  usedBy: string[];
  breaker: BreakerState;
  now: Date;
}

export function agentStatus(observed: AgentObservation): AgentStatusV2 {
  const { spec, generation, now, breaker } = observed;
  const problems = agentProblems(spec, 'spec');
  const accepted = setCondition(
    observed.status?.conditions ?? [],
    problems.length
      ? {
          type: 'Accepted',
          status: 'False',
          reason: 'InvalidSpec',
          message: problems.map((problem) => `${problem.field}: ${problem.message}`).join('; '),
        }
      : { type: 'Accepted', status: 'True', reason: 'Valid', message: 'stages that name this agent run it' },
    now,
    generation,
  );
  const usedBy = [...observed.usedBy].sort();
  return {
    observedGeneration: generation,
    conditions: accepted,
    usedBy: usedBy.slice(0, USED_BY_SHOWN),
    usedByCount: usedBy.length,
    circuitBreaker:
      breaker.state === 'open'
        ? { state: 'open', openUntil: timestamp(new Date(breaker.until)) }
        : { state: breaker.state },
  };
}
