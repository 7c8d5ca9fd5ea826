import { Type } from '@sinclair/typebox';
import {
  Obj,
  StringEnum,
  Int,
  Num,
  Bool,
  Duration,
  Name,
  NamedMap,
  StrList,
  positiveDuration,
} from '../schema-kit.js';
import { ErrorClass } from './error-class.js';
import { StageCache } from './cache.js';

export const EXECUTION_MODES = ['pipeline', 'parallel', 'hybrid'] as const;
export const RETRY_STRATEGY_TYPES = ['exponential', 'linear', 'immediate', 'custom'] as const;
/** The retry logic a custom strategy may name. */
const CUSTOM_RETRY_FUNCTIONS = ['customRetryLogic'] as const;

const executionFields = (withDefaults: boolean) => ({
  mode: Type.Optional(
    StringEnum(
      'How stages are scheduled: pipeline runs them in list order, parallel all at once, hybrid follows the dependsOn graph.',
      EXECUTION_MODES,
      withDefaults ? 'pipeline' : undefined,
    ),
  ),
  timeout: Type.Optional(Duration('Deadline for the whole run, counted from its start.')),
  retries: Type.Optional(Int('Default number of retries for a failed stage.', { minimum: 0, maximum: 100 })),
  parallelism: Type.Optional(
    Int('Most stages of this runbook running at the same time.', {
      minimum: 1,
      maximum: 1000,
      ...(withDefaults ? { default: 5 } : {}),
    }),
  ),
  retryStrategy: Type.Optional(
    Name('Name of the entry in spec.retryStrategies that failed stages follow by default.'),
  ),
  cache: Type.Optional({
    ...StageCache,
    description:
      "Cache every stage's result as a stage's cache says (a stage's own cache replaces this; an agent with cache: false is never cached).",
  }),
});

export const Execution = Obj(
  'How the runbook runs: scheduling mode, deadline, retries and concurrency.',
  executionFields(true),
  { celRules: [positiveDuration('timeout')] },
);

/** The same fields without defaults, so an environment overlay only overrides what it sets. */
export const ExecutionOverlay = Obj(
  'Execution settings this environment overrides.',
  executionFields(false),
  {
    celRules: [positiveDuration('timeout')],
  },
);

export const RetryStrategy = Obj(
  'How a failed stage is retried. exponential uses baseDelay, maxDelay, multiplier and jitter; linear uses initialDelay, increment and maxAttempts; immediate uses maxAttempts; custom uses function and parameters.',
  {
    type: StringEnum('The retry algorithm.', RETRY_STRATEGY_TYPES),
    baseDelay: Type.Optional(Duration('exponential: delay before the first retry.')),
    maxDelay: Type.Optional(Duration('exponential: upper bound on any delay.')),
    multiplier: Type.Optional(
      Num('exponential: factor applied to the delay after each attempt.', { minimum: 1, maximum: 100 }),
    ),
    jitter: Type.Optional(Bool('exponential: spread delays by a deterministic per-Job jitter.')),
    initialDelay: Type.Optional(Duration('linear: delay before the first retry.')),
    increment: Type.Optional(Duration('linear: added to the delay after each attempt.')),
    maxAttempts: Type.Optional(Int('linear, immediate: most attempts in all.', { minimum: 1, maximum: 100 })),
    function: Type.Optional(
      StringEnum(
        'custom: name of the retry logic. customRetryLogic (the one there is): retry only the error classes in parameters.conditions, waiting 1s times backoffMultiplier to the power of the attempt.',
        CUSTOM_RETRY_FUNCTIONS,
      ),
    ),
    parameters: Type.Optional(
      Obj('custom: parameters of the retry logic.', {
        conditions: Type.Optional(
          StrList('Error classes that are retried; others fail at once.', ErrorClass, 16),
        ),
        backoffMultiplier: Type.Optional(
          Num('Factor applied to the delay after each attempt.', { minimum: 1, maximum: 100 }),
        ),
      }),
    ),
  },
  {
    celRules: [
      {
        rule: "self.type != 'exponential' || has(self.baseDelay)",
        message: 'an exponential strategy needs baseDelay',
        fieldPath: '.baseDelay',
        reason: 'FieldValueRequired',
      },
      {
        rule: "self.type != 'linear' || has(self.initialDelay)",
        message: 'a linear strategy needs initialDelay',
        fieldPath: '.initialDelay',
        reason: 'FieldValueRequired',
      },
      {
        rule: "self.type != 'custom' || has(self.parameters)",
        message: 'a custom strategy needs parameters',
        fieldPath: '.parameters',
        reason: 'FieldValueRequired',
      },
      {
        rule: '!has(self.baseDelay) || !has(self.maxDelay) || duration(self.baseDelay) <= duration(self.maxDelay)',
        message: 'baseDelay must not exceed maxDelay',
        fieldPath: '.baseDelay',
      },
    ],
  },
);

export const RetryStrategies = NamedMap(
  'Named retry strategies, referred to by execution.retryStrategy and by stages.',
  RetryStrategy,
  32,
);
