import { expect } from 'chai';
import { agentRunbookCrd, PRINTER_COLUMNS } from '../../../src/api/crd.js';
import type { JsonSchema } from '../../../src/api/structural.js';

type Visit = (node: JsonSchema, path: string) => void;

function walkSchema(node: JsonSchema, path: string, visit: Visit): void {
  visit(node, path);
  const properties = node.properties as Record<string, JsonSchema> | undefined;
  for (const [name, sub] of Object.entries(properties ?? {})) walkSchema(sub, `${path}.${name}`, visit);
  if (node.items) walkSchema(node.items as JsonSchema, `${path}[]`, visit);
  if (typeof node.additionalProperties === 'object') {
    walkSchema(node.additionalProperties as JsonSchema, `${path}{}`, visit);
  }
}

/** Every served version's schema, walked as one tree (root.v1..., root.v2...). */
function v2Schema(): JsonSchema {
  const spec = agentRunbookCrd().spec as {
    versions: { name: string; schema: { openAPIV3Schema: JsonSchema } }[];
  };
  expect(spec.versions.map((v) => v.name)).to.deep.equal(['v1', 'v2']);
  return {
    type: 'object',
    properties: Object.fromEntries(spec.versions.map((v) => [v.name, v.schema.openAPIV3Schema])),
  };
}

describe('AgentRunbook CRD schema', () => {
  it('is structural: every node has a type or preserves unknown fields, and no JSON Schema features the API server refuses', () => {
    const problems: string[] = [];
    walkSchema(v2Schema(), 'root', (node, path) => {
      if (!node.type && node['x-kubernetes-preserve-unknown-fields'] !== true)
        problems.push(`${path}: no type`);
      for (const banned of ['patternProperties', 'anyOf', 'oneOf', 'allOf', 'const', '$id', '$ref']) {
        if (banned in node) problems.push(`${path}: has ${banned}`);
      }
      if (node.properties && 'additionalProperties' in node)
        problems.push(`${path}: properties beside additionalProperties`);
    });
    expect(problems).to.deep.equal([]);
  });

  it('describes every field, so kubectl explain teaches the API', () => {
    const undocumented: string[] = [];
    walkSchema(v2Schema(), 'root', (node, path) => {
      const isMetadata = /^root\.v\d\.metadata$/.test(path) || path === 'root';
      const isMapValueOrItem = path.endsWith('{}') || path.endsWith('[]');
      if (!isMetadata && !isMapValueOrItem && typeof node.description !== 'string') undocumented.push(path);
    });
    expect(undocumented).to.deep.equal([]);
  });

  it('bounds every list, map and string that a CEL rule could iterate', () => {
    const unbounded: string[] = [];
    walkSchema(v2Schema(), 'root', (node, path) => {
      if (/^root\.v\d\.(status|metadata|apiVersion|kind)/.test(path)) return;
      if (node.type === 'array' && node.maxItems === undefined) unbounded.push(path);
      if (node.type === 'string' && node.maxLength === undefined && node.enum === undefined)
        unbounded.push(path);
    });
    expect(unbounded).to.deep.equal([]);
  });

  it('has the printer columns Phase, Progress, Tokens, Cost and Age and a status subresource', () => {
    expect(PRINTER_COLUMNS.map((column) => column.name)).to.deep.equal([
      'Phase',
      'Progress',
      'Tokens',
      'Cost',
      'Age',
    ]);
    const crd = agentRunbookCrd() as {
      spec: { versions: { subresources: unknown }[]; names: { shortNames: string[] } };
    };
    expect(crd.spec.versions.map((v) => v.subresources)).to.deep.equal([{ status: {} }, { status: {} }]);
    expect(crd.spec.names.shortNames).to.include('arb');
  });
});
