/**
 * Circuit breakers per agent, across runbooks (the specification's CircuitBreaker: threshold,
 * reset timeout, half-open probe). The state is not kept anywhere: it is derived each time from
 * the agent's recent Jobs, so every reconcile of every runbook, and a restarted operator, see
 * the same breaker. The history is bounded: a threshold is at most AGENT_HISTORY_LIMIT.
 */
import type { AgentCatalog } from '../../api/catalog.js';
import { agentKey } from '../spec/catalog.js';
import type { ErrorClass } from './agent-report.js';
import { parseDurationMs } from '../../api/grammar.js';
import { agentFailure } from './stage-outcome.js';
import type { AgentHistory } from '../model/types.js';

/** Failures that say the agent's infrastructure is in trouble, rather than the work itself. */
export const INFRASTRUCTURE_ERRORS: readonly ErrorClass[] = [
  'TIMEOUT',
  'RATE_LIMIT',
  'API_ERROR',
  'QUOTA_EXCEEDED',
];

export type BreakerState =
  | { state: 'closed' }
  | { state: 'open'; until: number; failures: number }
  | { state: 'half-open'; probeRunning: boolean };

export interface BreakerConfig {
  threshold: number;
  resetTimeoutMs: number;
  /** Only failures this close to the newest count; unbounded when absent. */
  monitorPeriodMs?: number;
}

/** The breaker settings of the agent whose breaker key is `key` (catalog.ts breakerKeyOf). */
export function breakerConfig(catalog: AgentCatalog, key: string): BreakerConfig {
  const own = catalog.agents.find((entry) => agentKey(entry) === key)?.circuitBreaker;
  const shared = catalog.circuitBreaker;
  const monitorPeriod = own?.monitorPeriod ?? shared?.monitorPeriod;
  return {
    threshold: own?.threshold ?? shared?.threshold ?? 5,
    resetTimeoutMs: parseDurationMs(own?.resetTimeout ?? shared?.resetTimeout ?? '60s'),
    ...(monitorPeriod === undefined ? {} : { monitorPeriodMs: parseDurationMs(monitorPeriod) }),
  };
}

/** The breaker of one agent, from its newest finished Jobs (walked from the newest back). */
export function breakerState(history: AgentHistory, config: BreakerConfig, now: number): BreakerState {
  const { finished } = history;
  let failures = 0;
  let lastFailure = 0;
  for (let index = finished.length - 1; index >= 0; index -= 1) {
    const job = finished[index];
    if (!job) break;
    const errorClass = agentFailure(job)?.errorClass;
    if (!errorClass) break;
    if (INFRASTRUCTURE_ERRORS.includes(errorClass)) {
      const at = Date.parse(job.completionTime ?? '') || 0;
      // Walking back in time: a failure before the window of the newest ends the count.
      if (config.monitorPeriodMs !== undefined && failures > 0 && at < lastFailure - config.monitorPeriodMs)
        break;
      failures += 1;
      lastFailure = Math.max(lastFailure, at);
    }
  }
  if (failures < config.threshold) return { state: 'closed' };
  const until = lastFailure + config.resetTimeoutMs;
  if (now < until) return { state: 'open', until, failures };
  return { state: 'half-open', probeRunning: history.running > 0 };
}
