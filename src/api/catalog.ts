/**
 * The agent catalog: operator configuration that says which container runs each agent. An entry
 * matches an agent name and, when the stage asks for a version, a semver range.
 */
import { Type, type Static } from '@sinclair/typebox';
import { AGENT_HISTORY_LIMIT } from './limits.js';
import { PodTemplate, Scratch } from './pod-template.js';
import { FanOutLimits } from './v2/branching.js';
import {
  Obj,
  Str,
  StrList,
  Name,
  FreeObject,
  Int,
  Duration,
  Money,
  NamedMap,
  Bool,
  ImageRef,
  StringEnum,
} from './schema-kit.js';

/** What a container's environment variable may be called (as the API server checks it). */
const ENV_NAME = '^[-._a-zA-Z][-._a-zA-Z0-9]*$';

export const CircuitBreaker = Obj(
  "When an agent's Jobs keep failing with infrastructure errors, new stages of that agent wait.",
  {
    threshold: Type.Optional(
      Int('Consecutive infrastructure failures that open the breaker (default 5).', {
        minimum: 1,
        maximum: AGENT_HISTORY_LIMIT,
      }),
    ),
    resetTimeout: Type.Optional(
      Duration('How long the breaker stays open before one probe may run (default 60s).'),
    ),
    monitorPeriod: Type.Optional(
      Duration(
        'The window the failures must fall in: only those within this long before the newest count towards threshold (default: no window, every consecutive failure counts).',
      ),
    ),
  },
);

export const ModelPrice = Obj('What one model costs, in US dollars per million tokens.', {
  inputPerMillionTokens: Money('Dollars per million prompt tokens.'),
  outputPerMillionTokens: Money('Dollars per million completion tokens.'),
});

export const Prices = Type.Record(Type.String({ minLength: 1, maxLength: 256 }), ModelPrice, {
  description: 'Prices of the models LLM agents call, by model name: the agents report their cost from them.',
  maxProperties: 256,
});

/** How an agent runs: the same fields in a catalog entry, an Agent and a ClusterAgent. */
export const AGENT_FIELDS = {
  versions: Type.Optional(
    Str('Semver range of agent versions this agent serves, e.g. ">=1.0.0 <2.0.0"; any version when absent.', {
      maxLength: 256,
    }),
  ),
  image: ImageRef('Container image.'),
  command: Type.Optional(StrList('Container command.', Str('An argument.'), 32)),
  args: Type.Optional(StrList('Container arguments.', Str('An argument.'), 64)),
  resources: Type.Optional(FreeObject('Container resources (requests and limits), as in a Pod spec.')),
  env: Type.Optional(
    Type.Record(Type.String({ pattern: ENV_NAME, maxLength: 256 }), Str('A value.'), {
      description: 'Extra environment variables for the agent.',
      maxProperties: 64,
    }),
  ),
  secretEnv: Type.Optional(
    Type.Record(
      Type.String({ pattern: ENV_NAME, maxLength: 256 }),
      Obj("An environment variable from a key of a Secret in the runbook's namespace.", {
        secret: Name('Name of the Secret.'),
        key: Str('Key in the Secret.', { maxLength: 253 }),
      }),
      {
        description:
          'Environment variables the agent reads from Secrets (an API key), which the operator never reads itself; the Secret must exist in each namespace that runs the agent.',
        maxProperties: 32,
      },
    ),
  ),
  llm: Type.Optional(
    Obj(
      'The chat-completions endpoint an LLM agent calls (src/agent/llm-agent.ts), passed to it as AGENT_LLM.',
      {
        baseURL: Str('Base URL of an OpenAI-compatible API, e.g. https://api.openai.com/v1.', {
          maxLength: 2048,
        }),
        model: Str('Model to call unless the stage parameter model names another; prices must list it.', {
          maxLength: 256,
        }),
      },
    ),
  ),
  prices: Type.Optional(Prices),
  cache: Type.Optional(
    Bool(
      "false: this agent's results are never cached or reused (its answers depend on the moment, or must always be fresh); a runbook that sets cache on a stage of it is refused. true by default.",
    ),
  ),
  circuitBreaker: Type.Optional(CircuitBreaker),
  podTemplate: Type.Optional(PodTemplate),
  scratch: Type.Optional(Scratch),
};

export const CatalogEntry = Obj('How one agent runs.', {
  name: Name('Agent name, as stages and workflow steps refer to it.'),
  ...AGENT_FIELDS,
});

export const NotificationTarget = Obj('Where a notify target of an emergency workflow is reached.', {
  url: Str('URL that receives an HTTP POST with a JSON description of the emergency.', { maxLength: 2048 }),
});

/** What people are told about, by the receivers of the operator's notifications section. */
export const NOTICE_EVENTS = ['GateWaiting', 'RunFailed', 'BudgetAlert', 'RunCancelled'] as const;
export const NOTICE_FORMATS = ['json', 'slack', 'cloudevents'] as const;

export const NoticeReceiver = Obj(
  'An HTTP endpoint told when a run needs or deserves a person: a gate starts waiting, a run fails, raises its budget alert or is cancelled.',
  {
    url: Str('URL that receives an HTTP POST per notice.', { maxLength: 2048, pattern: '^https?://' }),
    format: Type.Optional(
      StringEnum(
        'json: the notice as a JSON object; slack: a Slack-compatible incoming-webhook body ({text}); cloudevents: a CloudEvent in HTTP binary mode (ce-* headers, the notice as the JSON body).',
        NOTICE_FORMATS,
        'json',
      ),
    ),
    events: Type.Optional(
      StrList('The notices it receives; all when absent.', StringEnum('A notice.', NOTICE_EVENTS), 8),
    ),
    namespaces: Type.Optional(
      StrList(
        'Namespaces whose runbooks it hears about; all when absent.',
        Str('A namespace.', { maxLength: 63 }),
        256,
      ),
    ),
  },
);

export const NamespacePolicy = Obj(
  'What the runbooks, templates and agents of a namespace may set themselves, beyond what RBAC lets their authors do.',
  {
    allowedImages: Type.Optional(
      StrList(
        'Images they may name: each must match one of these patterns, where * matches any run of characters (registry.example/agents/*). Any image when absent.',
        Str('An image pattern.', { maxLength: 512 }),
        64,
      ),
    ),
    allowedServiceAccounts: Type.Optional(
      StrList(
        'ServiceAccounts their agent Pods may run as (* for any). Any ServiceAccount when absent.',
        Str('A ServiceAccount name.', { maxLength: 253 }),
        64,
      ),
    ),
    allowWritableRootFilesystem: Type.Optional(
      Bool('Agents may set podTemplate.securityContext.readOnlyRootFilesystem: false (refused by default).'),
    ),
    allowedCapabilities: Type.Optional(
      StrList(
        'Capabilities agents may add back (podTemplate.securityContext.addCapabilities); none by default.',
        Str('A capability, e.g. NET_BIND_SERVICE.', { maxLength: 64 }),
        16,
      ),
    ),
  },
);

export const AdmissionPolicy = Obj(
  'Pins checked at admission on top of RBAC: which images and ServiceAccounts may be set, per namespace.',
  {
    default: Type.Optional(NamespacePolicy),
    namespaces: Type.Optional(
      Type.Record(Type.String({ minLength: 1, maxLength: 63 }), NamespacePolicy, {
        description:
          'Policies by namespace; a namespace not listed gets the default. Cluster-scoped objects (ClusterAgent, ClusterAgentRunbookTemplate) get the default.',
        maxProperties: 1024,
      }),
    ),
  },
);

export const Concurrency = Obj(
  'How many runbooks may run at once; a runbook over a limit waits in order (phase Queued). A runbook may set its own limit for its namespace (its conductor’s maxConcurrentPipelines).',
  {
    cluster: Type.Optional(Int('Most runbooks that run at once in the cluster.', { minimum: 1 })),
    perNamespace: Type.Optional(Int('Most runbooks that run at once in any one namespace.', { minimum: 1 })),
  },
);

/** What the stored results of one namespace may hold by default (docs/caching.md). */
export const RESULT_CACHE_DEFAULTS = { maxEntriesPerNamespace: 500, maxBytesPerNamespace: 64 * 1024 * 1024 };

export const ResultCacheLimits = Obj(
  'How much each namespace may keep of stage results stored for reuse (CachedResults); over either bound, the oldest go first.',
  {
    maxEntriesPerNamespace: Type.Optional(
      Int(`Most stored results per namespace (${RESULT_CACHE_DEFAULTS.maxEntriesPerNamespace} by default).`, {
        minimum: 0,
        maximum: 100_000,
      }),
    ),
    maxBytesPerNamespace: Type.Optional(
      Int(
        `Most bytes of outputs (as JSON) the stored results of a namespace hold together (${RESULT_CACHE_DEFAULTS.maxBytesPerNamespace} by default).`,
        { minimum: 0, maximum: 64 * 1024 * 1024 * 1024 },
      ),
    ),
  },
);

/** The operator's configuration file (--config): the agent catalog and what goes with it. */
export const AgentCatalog = Obj('Agents the operator can run, and how it guards and reports on them.', {
  agents: Type.Array(CatalogEntry, { description: 'Entries, tried in order.', maxItems: 1024 }),
  admission: Type.Optional(AdmissionPolicy),
  circuitBreaker: Type.Optional(CircuitBreaker),
  concurrency: Type.Optional(Concurrency),
  notifications: Type.Optional(NamedMap('Receivers of notices to people, by name.', NoticeReceiver, 64)),
  notificationTargets: Type.Optional(
    NamedMap('Notify targets of emergency workflows, by name.', NotificationTarget, 256),
  ),
  prices: Type.Optional(Prices),
  resultCache: Type.Optional(ResultCacheLimits),
  fanOut: Type.Optional(FanOutLimits),
});

export type CatalogEntry = Static<typeof CatalogEntry>;
export type AgentCatalog = Static<typeof AgentCatalog>;
export type ModelPrice = Static<typeof ModelPrice>;
export type AdmissionPolicy = Static<typeof AdmissionPolicy>;
export type NoticeReceiver = Static<typeof NoticeReceiver>;
export type NoticeEvent = (typeof NOTICE_EVENTS)[number];
export type NamespacePolicy = Static<typeof NamespacePolicy>;
export type ResultCacheLimits = Static<typeof ResultCacheLimits>;
