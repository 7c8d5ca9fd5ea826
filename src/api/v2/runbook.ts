import type { Static } from '@sinclair/typebox';
import { ResourceRoot } from '../schema-kit.js';
import { Spec } from './spec.js';
import { Status } from './status.js';

export { RUNBOOK_IDENTITY, Spec, TEMPLATE_RUNBOOK_FIELDS } from './spec.js';

export const AgentRunbook = ResourceRoot(
  'i2s.studio/v2',
  Spec,
  Status,
  'AgentRunbook runs AI agents as Kubernetes Jobs: stages pass outputs to each other under timeouts, retries, budgets, quality gates and fallback workflows.',
);

export type AgentRunbookV2 = Static<typeof AgentRunbook>;
export type SpecV2 = Static<typeof Spec>;
export type StatusV2 = Static<typeof Status>;
export type StageV2 = NonNullable<SpecV2['agents']['pipeline']>[number];
export type StageStatusV2 = NonNullable<StatusV2['stages']>[number];
export type ConditionV2 = NonNullable<StatusV2['conditions']>[number];
export type ExecutionMetricsV2 = NonNullable<StatusV2['metrics']>;
export type AlertStatusV2 = NonNullable<StatusV2['alerts']>[number];
