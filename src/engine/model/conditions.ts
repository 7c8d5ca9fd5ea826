import type { ConditionV2 } from '../../api/v2/runbook.js';
import type { ConditionReason } from '../../api/reasons.js';

/**
 * The reason of the Alerting condition: the firing alert's own name (engine/run/alerts.ts), the
 * one condition reason not listed in api/reasons.ts.
 */
export type AlertReason = string & { readonly alertName: true };

/** A condition as the engine sets it: its reason one the API reference lists. */
export type NewCondition = Omit<ConditionV2, 'lastTransitionTime' | 'observedGeneration' | 'reason'> & {
  reason: ConditionReason | AlertReason;
};

export function timestamp(time: Date): string {
  return time.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Sets a condition, keeping its lastTransitionTime when its status does not change (metav1 semantics). */
export function setCondition(
  conditions: ConditionV2[],
  condition: NewCondition,
  now: Date,
  generation: number,
): ConditionV2[] {
  const existing = conditions.find((c) => c.type === condition.type);
  const next: ConditionV2 = {
    ...condition,
    observedGeneration: generation,
    lastTransitionTime:
      existing && existing.status === condition.status ? existing.lastTransitionTime : timestamp(now),
  };
  return existing ? conditions.map((c) => (c === existing ? next : c)) : [...conditions, next];
}

export function removeCondition(conditions: ConditionV2[], type: string): ConditionV2[] {
  return conditions.filter((c) => c.type !== type);
}
