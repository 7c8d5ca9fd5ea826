/**
 * Stage result caching: what a runbook asks (StageCache, on a stage or as spec.execution.cache for
 * all of them), what a stage's status says of it, and CachedResult, the stored result (one object
 * per result, in the namespace that produced it). docs/caching.md tells the whole story.
 */
import { Type, type Static } from '@sinclair/typebox';
import { MAX_DURATION_TEXT } from '../grammar.js';
import {
  Bool,
  Duration,
  FreeObject,
  Int,
  Money,
  Name,
  Obj,
  Str,
  StringEnum,
  Timestamp,
} from '../schema-kit.js';

/** How long a stored result is reused when the runbook does not say. */
export const DEFAULT_CACHE_MAX_AGE = '24h';
/** sha256:<64 hex>: a cache key, and the digest of an output's JSON. */
export const DIGEST_PATTERN = '^sha256:[0-9a-f]{64}$';

const Digest = (description: string) => Str(description, { pattern: DIGEST_PATTERN, maxLength: 71 });

export const StageCache = Obj(
  "Reuse the stage's result when the same agent, image, command, settings and resolved inputs produced one within maxAge (docs/caching.md): a hit runs no Job and spends nothing. Off unless set.",
  {
    enabled: Type.Optional(
      Bool(
        'false: this stage is never cached (when spec.execution.cache turns caching on for every stage); true by default once cache is set.',
      ),
    ),
    maxAge: Type.Optional(
      Duration(
        `How old a stored result may be and still be reused, and how long a result this stage stores is kept (${DEFAULT_CACHE_MAX_AGE} by default).`,
      ),
    ),
    key: Type.Optional(
      Str('Added to the cache key as given: a new value forces a miss (e.g. the week a report is for).', {
        maxLength: 256,
      }),
    ),
    version: Type.Optional(
      Str(
        "Added to the cache key, as Flyte's cache_version: bump it when what the agent does changed but its image did not.",
        {
          maxLength: 64,
        },
      ),
    ),
  },
  {
    celRules: [
      {
        rule: `!has(self.maxAge) || (duration(self.maxAge) > duration('0s') && duration(self.maxAge) <= duration('${MAX_DURATION_TEXT}'))`,
        message: `maxAge must be longer than 0s and at most ${MAX_DURATION_TEXT}`,
        fieldPath: '.maxAge',
      },
    ],
  },
);

export const CACHE_RESULTS = ['Hit', 'Miss'] as const;

const SavedUsage = Obj('What running the stage cost when its result was stored: what reusing it saved.', {
  tokens: Type.Optional(Int('Tokens saved.', { minimum: 0 })),
  costUSD: Type.Optional(Money('Dollars saved.')),
});

export const ResultOrigin = Obj('The run that produced a stored result.', {
  runbook: Str('The AgentRunbook, in this namespace.', { maxLength: 253 }),
  execution: Str('Its execution (status.execution).', { maxLength: 63 }),
  stage: Name('Its stage.'),
  job: Type.Optional(Str('The Job of the attempt that succeeded.', { maxLength: 63 })),
  time: Timestamp('When the stage succeeded.'),
});

export const StageCacheStatus = Obj("The stage's result cache: its key, and whether its result was reused.", {
  key: Digest(
    'sha256 of the canonical JSON of everything that determines the result (docs/caching.md lists it); the key the result was stored under once stored.',
  ),
  result: StringEnum(
    'Hit: a stored result was reused and nothing ran; Miss: none could be, so the stage ran.',
    CACHE_RESULTS,
  ),
  entry: Type.Optional(Str('The CachedResult reused, or the one this stage stored.', { maxLength: 253 })),
  origin: Type.Optional(ResultOrigin),
  saved: Type.Optional(SavedUsage),
});

const StoredRef = Obj('An output kept in spec.data, as a stage status refers to it.', {
  key: Str('Key of the output in spec.data and in the ConfigMap a reusing run gets.', { maxLength: 253 }),
  bytes: Int('Size of the output as JSON, in bytes.', { minimum: 0 }),
  preview: Str("The output's first characters.", { maxLength: 1024 }),
  digest: Digest("sha256 of the output's JSON."),
});

export const CachedResultSpec = Obj(
  'A stage result kept for reuse. Written once by the operator; delete it to forget it (agentrunbook cache clear).',
  {
    key: Digest('The cache key it answers (sha256 of the canonical JSON of what produced it).'),
    agent: Name('The agent that produced it.'),
    image: Str('The image that ran, as the stage named it.', { maxLength: 512 }),
    imageDigest: Type.Optional(Digest('The digest the Pod reported for that image, when it reported one.')),
    origin: ResultOrigin,
    maxAge: Duration('The maxAge of the stage that stored it.'),
    expiresAt: Timestamp('When the operator removes it (origin.time plus maxAge).'),
    usage: SavedUsage,
    outputs: Type.Optional(FreeObject('The outputs small enough for a status, as the stage reported them.')),
    outputRefs: Type.Optional(
      Type.Record(Type.String(), StoredRef, {
        description: 'The larger outputs, by output name: their JSON is in data.',
        maxProperties: 1024,
      }),
    ),
    data: Type.Optional(
      Type.Record(Type.String(), Type.String(), {
        description:
          'The larger outputs as JSON, by key: copied into a ConfigMap of each run that reuses them.',
        maxProperties: 1024,
      }),
    ),
    bytes: Int('The size of all its outputs as JSON, which the per-namespace bound counts.', { minimum: 0 }),
  },
  { celRules: [{ rule: 'self == oldSelf', message: 'a cached result cannot be changed; delete it' }] },
);

export const CachedResult = Type.Object(
  {
    apiVersion: Type.String({ description: 'i2s.studio/v2' }),
    kind: Type.String({ description: 'CachedResult' }),
    metadata: Type.Object({}, { description: 'Standard object metadata.', additionalProperties: true }),
    spec: CachedResultSpec,
  },
  {
    description:
      "A stage's result kept so a stage that would produce the same result reuses it instead of running (spec.agents.pipeline[].cache). Made by the operator in the namespace of the runbook that produced it; it outlives that runbook and goes when it expires or its namespace's cache is full.",
    additionalProperties: false,
  },
);

export type StageCacheV2 = Static<typeof StageCache>;
export type StageCacheStatusV2 = Static<typeof StageCacheStatus>;
export type CachedResultSpecV2 = Static<typeof CachedResultSpec>;
