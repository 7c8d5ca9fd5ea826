import { Type, type Static } from '@sinclair/typebox';
import { Obj, Str, StrList, SemVer, Name, Bool, ResourceRoot, StringEnum } from '../schema-kit.js';

/** What spec.status may ask of a run (Tekton's PipelineRun spec.status is the model). */
const RUN_REQUESTS = ['Cancelled'] as const;
import { Context, Author, Created } from './context.js';
import { Execution, RetryStrategies } from './execution.js';
import { Budgets } from './budgets.js';
import { Quality } from './quality.js';
import { Agents } from './agents.js';
import { Workflows } from './workflows.js';
import { Monitoring } from './monitoring.js';
import { Environments } from './environments.js';
import { History } from './history.js';
import { Status } from './status.js';

/** The fields every API version shares: what the runbook is, where it comes from, suspend and cancel. */
export const RUNBOOK_IDENTITY = {
  version: SemVer('Version of this runbook.'),
  description: Type.Optional(Str('What the runbook does.', { maxLength: 4096 })),
  tags: Type.Optional(StrList('Categorization tags.', Str('A tag.', { maxLength: 63 }), 32)),
  created: Type.Optional(Created),
  author: Type.Optional(Author),
  context: Type.Optional(Context),
  environment: Type.Optional(Name('Entry of spec.environments whose overlay applies to this run.')),
  suspend: Type.Optional(Bool('While true, no new stage starts; running stages finish.')),
  status: Type.Optional(
    StringEnum(
      'Cancelled stops the run: its running Jobs are deleted, the stages not yet run are skipped, and the phase becomes Cancelled (outputs and usage so far are kept). Removing it starts a fresh run.',
      RUN_REQUESTS,
    ),
  ),
};

export const Spec = Obj(
  'The desired run: agents, how they are scheduled, and the guardrails around them.',
  {
    ...RUNBOOK_IDENTITY,
    execution: Type.Optional({ ...Execution, default: {} }),
    retryStrategies: Type.Optional(RetryStrategies),
    budgets: Type.Optional(Budgets),
    quality: Type.Optional(Quality),
    agents: Agents,
    workflows: Type.Optional(Workflows),
    monitoring: Type.Optional(Monitoring),
    environments: Type.Optional(Environments),
    history: Type.Optional({ ...History, default: {} }),
  },
  {
    celRules: [
      {
        rule: '!has(self.environment) || (has(self.environments) && self.environment in self.environments)',
        messageExpression: "'environment ' + self.environment + ' is not defined in spec.environments'",
        fieldPath: '.environment',
      },
      {
        rule: '!has(self.execution) || !has(self.execution.retryStrategy) || (has(self.retryStrategies) && self.execution.retryStrategy in self.retryStrategies)',
        messageExpression:
          "'retryStrategy ' + self.execution.retryStrategy + ' is not defined in spec.retryStrategies'",
        fieldPath: '.execution.retryStrategy',
      },
      {
        rule: '!has(self.agents.pipeline) || self.agents.pipeline.all(s, !has(s.config) || !has(s.config.retryStrategy) || (has(self.retryStrategies) && s.config.retryStrategy in self.retryStrategies))',
        message: 'a stage config.retryStrategy is not defined in spec.retryStrategies',
        fieldPath: '.agents.pipeline',
      },
      {
        rule: '!has(self.quality) || !has(self.quality.gates) || self.quality.gates.all(g, !has(g.before) || (has(self.agents.pipeline) && self.agents.pipeline.exists(s, s.name == g.before)))',
        message: 'a quality gate names in before a stage that is not in spec.agents.pipeline',
        fieldPath: '.quality.gates',
      },
    ],
  },
);

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
