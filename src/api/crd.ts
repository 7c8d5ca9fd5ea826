import { AgentRunbook } from './v2/runbook.js';
import { AgentRunbookTemplate } from './v2/template.js';
import { Agent } from './v2/agent.js';
import { GateDecision } from './v2/gate-decision.js';
import { CachedResult } from './v2/cache.js';
import { ClusterGatePolicy, GatePolicy } from './v2/gate-policy.js';
import { AgentRunbookV1Schema } from './v1/runbook.js';
import { toStructural, type JsonSchema } from './structural.js';
import {
  GROUP,
  KIND,
  LIST_KIND,
  PLURAL,
  SINGULAR,
  SHORT_NAMES,
  CATEGORIES,
  CRD_NAME,
  STORAGE_VERSION,
  TEMPLATE_KINDS,
  AGENT_KINDS,
  DECISION_KIND,
  CACHE_KIND,
  GATE_POLICY_KINDS,
  webhookServiceReference,
  type KindScope,
} from './group.js';

export const PRINTER_COLUMNS = [
  { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Phase of the run.' },
  {
    name: 'Progress',
    type: 'string',
    jsonPath: '.status.progress',
    description: 'Finished stages out of all.',
  },
  { name: 'Tokens', type: 'integer', jsonPath: '.status.usage.tokens', description: 'Tokens used so far.' },
  {
    name: 'Cost',
    type: 'string',
    jsonPath: '.status.usage.costUSD',
    description: 'Cost so far, in US dollars.',
  },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
];

/**
 * Fields a list may select on (kubectl get arb --field-selector status.phase=Failed). Served on v2
 * only: the API server hoists a field that is identical in every version to the CRD's top level,
 * where selectableFields would then require a top-level schema the versions do not share.
 */
const SELECTABLE_FIELDS = [{ jsonPath: '.status.phase' }];

/** The openAPIV3Schema of one served version, derived from its TypeBox definition. */
export function openApiSchema(definition: unknown): JsonSchema {
  const schema = toStructural(definition);
  schema.required = ['spec'];
  const properties = schema.properties as Record<string, JsonSchema>;
  properties.metadata = { type: 'object' };
  return schema;
}

/**
 * The v2 runbook's schema, with spec.agents defaulted to {} rather than required: a runbook made
 * from a template (spec.template) has its agents from the template. Everything past admission
 * (the webhook, the engine) sees spec.agents set.
 */
function runbookSchema(): JsonSchema {
  const schema = openApiSchema(AgentRunbook);
  const spec = (schema.properties as Record<string, JsonSchema>).spec as JsonSchema;
  spec.required = (spec.required as string[]).filter((field) => field !== 'agents');
  const properties = spec.properties as Record<string, JsonSchema>;
  properties.agents = { ...properties.agents, default: {} };
  return schema;
}

/** The AgentRunbook CustomResourceDefinition. */
export function agentRunbookCrd(): JsonSchema {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: CRD_NAME },
    spec: {
      group: GROUP,
      names: {
        kind: KIND,
        listKind: LIST_KIND,
        plural: PLURAL,
        singular: SINGULAR,
        shortNames: SHORT_NAMES,
        categories: CATEGORIES,
      },
      scope: 'Namespaced',
      // v1 objects are converted by the operator's webhook; the operator fills in caBundle.
      conversion: {
        strategy: 'Webhook',
        webhook: {
          conversionReviewVersions: ['v1'],
          clientConfig: webhookServiceReference('/convert'),
        },
      },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: false,
          schema: { openAPIV3Schema: openApiSchema(AgentRunbookV1Schema) },
          subresources: { status: {} },
          additionalPrinterColumns: PRINTER_COLUMNS,
        },
        {
          name: 'v2',
          served: true,
          storage: true,
          schema: { openAPIV3Schema: runbookSchema() },
          subresources: { status: {} },
          additionalPrinterColumns: PRINTER_COLUMNS,
          selectableFields: SELECTABLE_FIELDS,
        },
      ],
    },
  };
}

interface KindNames {
  kind: string;
  plural: string;
  shortNames: readonly string[];
}

/** The CRD of a kind served in v2 only (templates, agents: never converted). */
function singleVersionCrd(
  names: KindNames,
  scope: KindScope,
  schema: JsonSchema,
  columns: Record<string, unknown>[],
  withStatus: boolean,
): JsonSchema {
  const { kind, plural, shortNames } = names;
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${GROUP}` },
    spec: {
      group: GROUP,
      names: {
        kind,
        listKind: `${kind}List`,
        plural,
        singular: kind.toLowerCase(),
        shortNames: [...shortNames],
        categories: CATEGORIES,
      },
      scope: scope === 'cluster' ? 'Cluster' : 'Namespaced',
      versions: [
        {
          name: STORAGE_VERSION,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: schema },
          ...(withStatus ? { subresources: { status: {} } } : {}),
          additionalPrinterColumns: columns,
        },
      ],
    },
  };
}

/** The CRD of a template kind. */
export function templateCrd(scope: KindScope): JsonSchema {
  return singleVersionCrd(
    TEMPLATE_KINDS[scope],
    scope,
    openApiSchema(AgentRunbookTemplate),
    [
      { name: 'Display Name', type: 'string', jsonPath: '.spec.displayName' },
      { name: 'Priority', type: 'integer', jsonPath: '.spec.selector.priority' },
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    ],
    false,
  );
}

export const AGENT_PRINTER_COLUMNS = [
  { name: 'Image', type: 'string', jsonPath: '.spec.image', description: 'Container image.' },
  { name: 'Versions', type: 'string', jsonPath: '.spec.versions', description: 'Agent versions served.' },
  {
    name: 'Accepted',
    type: 'string',
    jsonPath: ".status.conditions[?(@.type=='Accepted')].status",
    description: 'Whether stages can run it.',
  },
  {
    name: 'Breaker',
    type: 'string',
    jsonPath: '.status.circuitBreaker.state',
    description: 'Circuit breaker state.',
  },
  { name: 'Used By', type: 'integer', jsonPath: '.status.usedByCount', description: 'Runbooks naming it.' },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
];

/** The CRD of an agent kind. */
export function agentCrd(scope: KindScope): JsonSchema {
  return singleVersionCrd(AGENT_KINDS[scope], scope, openApiSchema(Agent), AGENT_PRINTER_COLUMNS, true);
}

/** The CRD of GateDecision. */
export function decisionCrd(): JsonSchema {
  return singleVersionCrd(
    DECISION_KIND,
    'namespaced',
    openApiSchema(GateDecision),
    [
      { name: 'Runbook', type: 'string', jsonPath: '.spec.runbook' },
      { name: 'Gate', type: 'string', jsonPath: '.spec.gate' },
      { name: 'Decision', type: 'string', jsonPath: '.spec.decision' },
      { name: 'User', type: 'string', jsonPath: '.spec.user' },
      { name: 'Generation', type: 'integer', jsonPath: '.spec.generation' },
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    ],
    false,
  );
}

/** The CRD of a gate policy kind. */
export function gatePolicyCrd(scope: KindScope): JsonSchema {
  return singleVersionCrd(
    GATE_POLICY_KINDS[scope],
    scope,
    openApiSchema(scope === 'cluster' ? ClusterGatePolicy : GatePolicy),
    [{ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' }],
    false,
  );
}

/** The CRD of CachedResult. */
export function cachedResultCrd(): JsonSchema {
  return singleVersionCrd(
    CACHE_KIND,
    'namespaced',
    openApiSchema(CachedResult),
    [
      {
        name: 'Stage',
        type: 'string',
        jsonPath: '.spec.origin.stage',
        description: 'The stage that produced it.',
      },
      { name: 'Agent', type: 'string', jsonPath: '.spec.agent' },
      { name: 'Runbook', type: 'string', jsonPath: '.spec.origin.runbook' },
      {
        name: 'Tokens',
        type: 'integer',
        jsonPath: '.spec.usage.tokens',
        description: 'What reusing it saves.',
      },
      {
        name: 'Cost',
        type: 'string',
        jsonPath: '.spec.usage.costUSD',
        description: 'What reusing it saves, in dollars.',
      },
      { name: 'Expires', type: 'date', jsonPath: '.spec.expiresAt' },
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    ],
    false,
  );
}
