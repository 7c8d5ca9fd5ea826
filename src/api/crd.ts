import { AgentRunbook } from './v2/runbook.js';
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
          schema: { openAPIV3Schema: openApiSchema(AgentRunbook) },
          subresources: { status: {} },
          additionalPrinterColumns: PRINTER_COLUMNS,
        },
      ],
    },
  };
}
