import { AgentRunbook } from './v2/runbook.js';
import { AgentRunbookTemplate } from './v2/template.js';
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
  webhookServiceReference,
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
        },
      ],
    },
  };
}

/** The CRD of a template kind; templates are not converted (they exist in v2 only). */
export function templateCrd(scope: keyof typeof TEMPLATE_KINDS): JsonSchema {
  const { kind, plural, shortNames } = TEMPLATE_KINDS[scope];
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
          schema: { openAPIV3Schema: openApiSchema(AgentRunbookTemplate) },
          additionalPrinterColumns: [
            { name: 'Display Name', type: 'string', jsonPath: '.spec.displayName' },
            { name: 'Priority', type: 'integer', jsonPath: '.spec.selector.priority' },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
        },
      ],
    },
  };
}
