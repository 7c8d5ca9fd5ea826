import { Type } from '@sinclair/typebox';
import {
  Obj,
  Str,
  StringEnum,
  Int,
  Bool,
  Duration,
  Name,
  NamedList,
  NamedMap,
  SemVer,
  StrList,
  FreeObject,
  positiveDuration,
  ImageRef,
  ServiceAccountName,
} from '../schema-kit.js';
import { WorkspaceBinding } from './workspaces.js';
import { StageCache } from './cache.js';
import { BRANCHING_FIELDS } from './branching.js';

export const FAILURE_POLICIES = ['abort', 'continue'] as const;
export const OUTPUT_TYPES = ['string', 'number', 'integer', 'boolean', 'object', 'array'] as const;

const Image = ImageRef('Container image that runs the agent, overriding the agent catalog.');
const Command = StrList(
  'Command of the agent container, overriding the agent catalog.',
  Str('An argument.'),
  32,
);

export const InputValidation = Obj('Checks the resolved inputs must pass before the stage starts.', {
  required: Type.Optional(
    StrList('Inputs that must be present and non-empty.', Str('An input name.', { maxLength: 253 })),
  ),
  minLength: Type.Optional(Int('Shortest length of each input named in required.', { minimum: 0 })),
  maxLength: Type.Optional(Int('Longest length of each input named in required.', { minimum: 0 })),
  schema: Type.Optional(
    FreeObject(
      'JSON Schema that the object {inputs, parameters} must satisfy, with the inputs resolved (types, ranges).',
    ),
  ),
});

export const StageConfig = Obj(
  "A stage's settings.",
  {
    timeout: Type.Optional(Duration('Deadline of one attempt of this stage.')),
    retries: Type.Optional(
      Int('Retries of this stage, overriding execution.retries.', { minimum: 0, maximum: 100 }),
    ),
    retryStrategy: Type.Optional(Name('Entry of spec.retryStrategies this stage follows.')),
    failurePolicy: Type.Optional(
      StringEnum(
        'What a failure of this stage does: abort ends the run, continue skips its dependents and goes on.',
        FAILURE_POLICIES,
      ),
    ),
    inputs: Type.Optional(
      FreeObject(
        'Inputs handed to the agent; strings may use ${context.x}, ${<stage>.outputs.<key>}, $timestamp.',
      ),
    ),
    parameters: Type.Optional(FreeObject('Agent-specific parameters, handed to the agent as given.')),
    validation: Type.Optional(InputValidation),
    outputs: Type.Optional(
      NamedMap(
        'Outputs the agent must report, by name, with their JSON type.',
        StringEnum('JSON type.', OUTPUT_TYPES),
      ),
    ),
  },
  {
    celRules: [
      {
        rule: '!has(self.validation) || !has(self.validation.minLength) || !has(self.validation.maxLength) || self.validation.minLength <= self.validation.maxLength',
        message: 'validation.minLength must not exceed validation.maxLength',
        fieldPath: '.validation.minLength',
      },
    ],
  },
);

export const Stage = Obj(
  'A pipeline stage: one agent run, as a Kubernetes Job.',
  {
    name: Name('Name of the stage, unique in the pipeline; other stages refer to its outputs by it.'),
    agent: Type.Optional(Name('Agent of the catalog that runs this stage; defaults to the stage name.')),
    version: Type.Optional(SemVer('Agent version the stage needs, matched against the agent catalog.')),
    dependsOn: Type.Optional(
      StrList('Stages that must succeed before this one starts.', Name('A stage name.'), 64),
    ),
    image: Type.Optional(Image),
    command: Type.Optional(Command),
    serviceAccountName: Type.Optional(
      ServiceAccountName('ServiceAccount the agent Pod runs as; the namespace default when absent.'),
    ),
    automountServiceAccountToken: Type.Optional(
      Bool('Mount the ServiceAccount token into the agent Pod; off unless set to true.'),
    ),
    config: Type.Optional(StageConfig),
    workspaces: Type.Optional(
      NamedList('Workspaces of spec.workspaces this stage mounts.', WorkspaceBinding, 16),
    ),
    cache: Type.Optional(StageCache),
    ...BRANCHING_FIELDS,
  },
  {
    celRules: [
      positiveDuration('config.timeout'),
      {
        rule: '!has(self.dependsOn) || !(self.name in self.dependsOn)',
        messageExpression: "'stage ' + self.name + ' depends on itself'",
        fieldPath: '.dependsOn',
      },
    ],
  },
);

export const Conductor = Obj('The orchestrating agent.', {
  role: Type.Optional(Str('Role of the agent, e.g. orchestrator.', { maxLength: 128 })),
  config: Type.Optional(FreeObject('Settings such as maxConcurrentPipelines, budgetTracking, qualityGates.')),
});

export const CoreAgent = Obj(
  'A support agent that workflow steps can call (librarian, market_analyst, ...).',
  {
    role: Type.Optional(Str('Role of the agent, e.g. knowledge_manager.', { maxLength: 128 })),
    version: Type.Optional(SemVer('Agent version, matched against the agent catalog.')),
    image: Type.Optional(Image),
    command: Type.Optional(Command),
    config: Type.Optional(FreeObject('Agent-specific settings.')),
  },
);

export const DeploymentAgent = Obj('A validation agent that checks the result after the main workflow.', {
  enabled: Type.Optional(Bool('Run this validation.')),
  version: Type.Optional(SemVer('Agent version, matched against the agent catalog.')),
  image: Type.Optional(Image),
  command: Type.Optional(Command),
  config: Type.Optional(
    FreeObject('Agent-specific settings, e.g. scanners, compliance, failOnCritical, thresholds.'),
  ),
});

export const Agents = Obj(
  'The agents of the runbook.',
  {
    conductor: Type.Optional(Conductor),
    pipeline: Type.Optional(NamedList('Pipeline stages, each with a unique name.', Stage, 64)),
    core: Type.Optional(NamedMap('Support agents by name.', CoreAgent, 32)),
    deployment: Type.Optional(
      NamedMap('Deployment validation agents by name (security, performance, ...).', DeploymentAgent, 16),
    ),
  },
  {
    celRules: [],
  },
);
