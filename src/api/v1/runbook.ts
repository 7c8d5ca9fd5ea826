/**
 * The i2s.studio/v1 API: the specification's 1.0.0 runbook layout. Agents are keyed by name with
 * their timeout at the agent's top level, there is no execution.parallelism, and spec.legacy holds
 * the 1.0 options. Served (and converted by the conversion webhook), never stored.
 */
import { Type } from '@sinclair/typebox';
import {
  Obj,
  Str,
  StrList,
  SemVer,
  Name,
  Bool,
  Duration,
  Int,
  NamedMap,
  StringEnum,
  FreeObject,
  ResourceRoot,
  ImageRef,
  ServiceAccountName,
} from '../schema-kit.js';
import { EXECUTION_MODES, RetryStrategies } from '../v2/execution.js';
import { Budgets } from '../v2/budgets.js';
import { Quality } from '../v2/quality.js';
import { StageConfig } from '../v2/agents.js';
import { Workflows } from '../v2/workflows.js';
import { Monitoring } from '../v2/monitoring.js';
import { Environments } from '../v2/environments.js';
import { Status } from '../v2/status.js';
import { RUNBOOK_IDENTITY } from '../v2/runbook.js';

export const ExecutionV1 = Obj(
  'How the runbook runs (v1: no parallelism; v2 runs v1 runbooks with parallelism 5).',
  {
    mode: Type.Optional(
      StringEnum('How stages are scheduled: pipeline, parallel or hybrid.', EXECUTION_MODES),
    ),
    timeout: Type.Optional(Duration('Deadline for the whole run.')),
    retries: Type.Optional(
      Int('Default number of retries for a failed agent.', { minimum: 0, maximum: 100 }),
    ),
    retryStrategy: Type.Optional(Name('Entry of spec.retryStrategies that failed agents follow by default.')),
  },
);

/** The 1.0.0 layout keeps an agent's settings at its top level; the migration moves them under config. */
export const TOP_LEVEL_SETTINGS = [
  'retries',
  'retryStrategy',
  'failurePolicy',
  'inputs',
  'parameters',
  'validation',
  'outputs',
] as const;

const { properties: settings } = StageConfig;

export const AgentV1 = Obj(
  'An agent of the runbook (v1 layout): one pipeline stage, keyed by its name. Its settings may sit at its top level, as in the 1.0.0 layout, or under config; not both.',
  {
    agent: Type.Optional(Name('Agent of the catalog that runs it; defaults to its key.')),
    version: Type.Optional(SemVer('Agent version, matched against the agent catalog.')),
    timeout: Type.Optional(Duration('Deadline of one attempt (v2: config.timeout).')),
    retries: Type.Optional(settings.retries),
    retryStrategy: Type.Optional(settings.retryStrategy),
    failurePolicy: Type.Optional(settings.failurePolicy),
    inputs: Type.Optional(settings.inputs),
    parameters: Type.Optional(settings.parameters),
    validation: Type.Optional(settings.validation),
    outputs: Type.Optional(settings.outputs),
    dependsOn: Type.Optional(StrList('Agents that must succeed first.', Name('An agent name.'), 64)),
    image: Type.Optional(ImageRef('Container image, overriding the agent catalog.')),
    command: Type.Optional(
      StrList('Container command, overriding the agent catalog.', Str('An argument.'), 32),
    ),
    serviceAccountName: Type.Optional(ServiceAccountName('ServiceAccount the agent Pod runs as.')),
    automountServiceAccountToken: Type.Optional(Bool('Mount the ServiceAccount token into the agent Pod.')),
    config: Type.Optional(
      Type.Omit(StageConfig, ['timeout'], { description: "The agent's settings (v1: no timeout here)." }),
    ),
  },
  {
    celRules: TOP_LEVEL_SETTINGS.map((setting) => ({
      rule: `!has(self.${setting}) || !has(self.config) || !has(self.config.${setting})`,
      message: `${setting} is set twice: at the agent's top level (the 1.0.0 layout) and under config; keep one`,
      fieldPath: `.${setting}`,
    })),
  },
);

export const Legacy = Obj('Settings of the 1.0 format that v2 no longer uses: kept, not acted on.', {
  options: Type.Optional(FreeObject('The 1.0 options.')),
});

export const SpecV1 = Obj(
  'The desired run, in the 1.0 layout.',
  {
    ...RUNBOOK_IDENTITY,
    execution: Type.Optional(ExecutionV1),
    retryStrategies: Type.Optional(RetryStrategies),
    budgets: Type.Optional(Budgets),
    quality: Type.Optional(Quality),
    agents: NamedMap('The agents, keyed by name; each is one pipeline stage.', AgentV1, 64),
    workflows: Type.Optional(Workflows),
    monitoring: Type.Optional(Monitoring),
    environments: Type.Optional(Environments),
    legacy: Type.Optional(Legacy),
  },
  {
    celRules: [
      {
        rule: '!has(self.environment) || (has(self.environments) && self.environment in self.environments)',
        messageExpression: "'environment ' + self.environment + ' is not defined in spec.environments'",
        fieldPath: '.environment',
      },
      {
        rule: 'self.agents.all(k, !has(self.agents[k].dependsOn) || self.agents[k].dependsOn.all(d, d in self.agents))',
        message: 'every dependsOn entry must name an agent of spec.agents',
        fieldPath: '.agents',
      },
    ],
  },
);

export const AgentRunbookV1Schema = ResourceRoot(
  'i2s.studio/v1',
  SpecV1,
  Status,
  'AgentRunbook in the 1.0 layout; converted to and stored as i2s.studio/v2.',
);
