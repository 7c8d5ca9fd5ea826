/**
 * spec.monitoring.alerts: CEL conditions over the run's variables, evaluated on every reconcile of
 * a run that has not ended. A firing alert shows in status.alerts and the Alerting condition, and
 * is worth a Warning Event when it starts and a Normal one when it resolves.
 */
import { moneyMicros } from '../../api/grammar.js';
import type { AlertStatusV2, ConditionV2, SpecV2, StatusV2 } from '../../api/v2/runbook.js';
import { celDuration, compileTypedCondition, type CelType } from '../spec/cel.js';
import { removeCondition, setCondition, timestamp, type AlertReason } from '../model/conditions.js';
import type { EngineEvent } from '../model/types.js';

/** How often a running run with alerts is looked at again, so time-based alerts fire without other changes. */
export const ALERT_INTERVAL_MS = 30_000;

/** The variables an alert condition reads, in the specification's spelling, with their CEL types. */
export const ALERT_VARIABLES: Readonly<Record<string, CelType>> = {
  execution_duration: 'google.protobuf.Duration',
  cpu_time: 'google.protobuf.Duration',
  error_rate: 'double',
  success_rate: 'double',
  cost_accrued: 'double',
  budget: 'double',
  budget_utilization: 'double',
  tokens_used: 'int',
  token_budget: 'int',
  retry_count: 'int',
  memory_peak: 'int',
  failed_stages: 'int',
  stages: 'int',
  fallback_triggered: 'bool',
  phase: 'string',
};

const SEVERITY_RANK = { low: 0, medium: 1, high: 2, critical: 3 } as const;

/** The scope alert conditions see, from the status (with its metrics) at `now`. */
export function alertScope(spec: SpecV2, status: StatusV2, now: Date): Record<string, unknown> {
  const metrics = status.metrics;
  const started = Date.parse(status.startTime ?? '');
  const ended = Date.parse(status.completionTime ?? '');
  const elapsed = Number.isNaN(started)
    ? 0
    : ((Number.isNaN(ended) ? now.getTime() : ended) - started) / 1000;
  const cost = moneyMicros(metrics?.costAccrued ?? '0') / 1e6;
  const maxUSD = spec.budgets?.cost?.maxUSD;
  // Without a cost limit nothing is over it: `cost_accrued > budget * 1.2` stays false.
  const budget = maxUSD === undefined ? Infinity : moneyMicros(maxUSD) / 1e6;
  const tokens = metrics?.tokensUsed ?? 0;
  const tokenBudget = spec.budgets?.tokens?.total ?? 0;
  const stages = status.stages ?? [];
  return {
    execution_duration: celDuration(elapsed),
    cpu_time: celDuration(metrics?.cpuSeconds ?? 0),
    error_rate: metrics?.errorRate ?? 0,
    success_rate: metrics?.successRate ?? 0,
    cost_accrued: cost,
    budget,
    budget_utilization: Math.max(
      Number.isFinite(budget) && budget > 0 ? cost / budget : 0,
      tokenBudget > 0 ? tokens / tokenBudget : 0,
    ),
    tokens_used: BigInt(tokens),
    token_budget: BigInt(tokenBudget),
    retry_count: BigInt(metrics?.retryCount ?? 0),
    memory_peak: BigInt(metrics?.memoryPeakBytes ?? 0),
    failed_stages: BigInt(stages.filter((stage) => stage.phase === 'Failed').length),
    stages: BigInt(stages.length),
    fallback_triggered: metrics?.fallbackTriggered ?? false,
    phase: status.phase ?? 'Pending',
  };
}

/** An alert's name as a condition reason: high_error-rate -> HighErrorRate. */
export function alertReason(name: string): AlertReason {
  const reason = name
    .split(/[-_]/)
    .filter(Boolean)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
  return (/^[A-Za-z]/.test(reason) ? reason : `Alert${reason}`) as AlertReason;
}

/** A quoted CEL string (left alone), or a Go duration written bare, as in `execution_duration > 20m`. */
const STRING_OR_DURATION =
  /("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')|(?<![\w.])((?:\d+(?:\.\d+)?(?:ns|us|ms|h|m|s))+)(?![\w.])/g;

/**
 * The specification writes durations bare (`execution_duration > 20m`), which CEL cannot parse:
 * each becomes duration("20m"). Nothing valid in CEL has that shape, so no valid condition changes.
 */
export function withDurationLiterals(condition: string): string {
  return condition.replace(
    STRING_OR_DURATION,
    (match, quoted: string | undefined, duration: string | undefined) =>
      quoted === undefined && duration !== undefined ? `duration("${duration}")` : match,
  );
}

const compiledConditions = new Map<string, ReturnType<typeof compileTypedCondition>>();

/** Compiled once per condition text: they are evaluated on every reconcile of every runbook. */
export function compileAlertCondition(condition: string): ReturnType<typeof compileTypedCondition> {
  let program = compiledConditions.get(condition);
  if (!program) {
    program = compileTypedCondition(withDurationLiterals(condition), ALERT_VARIABLES);
    if (compiledConditions.size >= 1024) compiledConditions.clear();
    compiledConditions.set(condition, program);
  }
  return program;
}

export interface AlertOutcome {
  alerts: AlertStatusV2[];
  conditions: ConditionV2[];
  events: EngineEvent[];
}

/**
 * Evaluates the alerts against `next` (built by this reconcile, metrics included), keeping when
 * each began from `before`. A condition that fails to evaluate is shown as Error, never as firing.
 */
export function evaluateAlerts(
  spec: SpecV2,
  before: StatusV2,
  next: StatusV2,
  now: Date,
  generation: number,
): AlertOutcome {
  const declared = spec.monitoring?.alerts ?? [];
  let conditions = next.conditions ?? [];
  if (!declared.length)
    return { alerts: [], conditions: removeCondition(conditions, 'Alerting'), events: [] };
  const scope = alertScope(spec, next, now);
  const previous = new Map((before.alerts ?? []).map((alert) => [alert.name, alert]));
  const alerts: AlertStatusV2[] = [];
  const events: EngineEvent[] = [];
  for (const alert of declared) {
    const program = compileAlertCondition(alert.condition);
    let state: AlertStatusV2['state'] | undefined;
    let message: string | undefined;
    if ('problem' in program) [state, message] = ['Error', `condition ${program.problem}`];
    else {
      try {
        if (program.evaluate(scope) === true) state = 'Firing';
      } catch (error) {
        [state, message] = ['Error', `condition failed: ${(error as Error).message.split('\n')[0] ?? ''}`];
      }
    }
    const was = previous.get(alert.name);
    if (state) {
      const since = was?.state === state ? was.since : timestamp(now);
      alerts.push({
        name: alert.name,
        severity: alert.severity,
        state,
        since,
        ...(message ? { message: message.slice(0, 1024) } : {}),
      });
    }
    if (state === was?.state) continue;
    if (state === 'Firing') {
      events.push({
        type: 'Warning',
        reason: 'AlertFiring',
        message: `alert ${alert.name} (${alert.severity}) fires: ${alert.condition}`,
      });
    } else if (state === 'Error') {
      events.push({
        type: 'Warning',
        reason: 'AlertFailed',
        message: `alert ${alert.name}: ${message ?? ''}`,
      });
    } else if (was?.state === 'Firing') {
      events.push({
        type: 'Normal',
        reason: 'AlertResolved',
        message: `alert ${alert.name} (${alert.severity}) resolved`,
      });
    }
  }
  const firing = alerts
    .filter((alert) => alert.state === 'Firing')
    .sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity]);
  const [worst] = firing;
  conditions = setCondition(
    conditions,
    worst
      ? {
          type: 'Alerting',
          status: 'True',
          reason: alertReason(worst.name),
          message: `firing: ${firing.map((alert) => `${alert.name} (${alert.severity})`).join(', ')}`,
        }
      : {
          type: 'Alerting',
          status: 'False',
          reason: 'NoAlertFiring',
          message: 'no alert of spec.monitoring.alerts fires',
        },
    now,
    generation,
  );
  return { alerts, conditions, events };
}
