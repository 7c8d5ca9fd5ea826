import { expect } from 'chai';
import fc from 'fast-check';
import {
  convertRunbook,
  V1,
  V2,
  ANNOTATION_V1_FIELDS,
  ANNOTATION_V2_FIELDS,
} from '../../../src/api/conversion.js';
import { migrate } from '../../../src/api/migration/engine.js';
import { V1_TO_V2 } from '../../../src/api/migration/v1-to-v2.js';
import { validateAgentRunbook, validateAgentRunbookV1 } from '../../../src/api/validator.js';

type Json = Record<string, unknown>;

const name = fc.stringMatching(/^[a-z][a-z0-9]{0,6}$/);
const duration = fc.constantFrom('30s', '5m', '1h30m', '250ms');
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const compact = <T extends Json>(object: T): T => JSON.parse(JSON.stringify(object)) as T;

const stageConfig = fc.record(
  {
    timeout: duration,
    retries: fc.integer({ min: 0, max: 5 }),
    failurePolicy: fc.constantFrom('abort', 'continue'),
    inputs: fc.dictionary(name, fc.oneof(fc.string(), fc.integer(), fc.constant('${context.title}'))),
    parameters: fc.dictionary(name, fc.oneof(fc.string(), fc.boolean())),
    outputs: fc.dictionary(name, fc.constantFrom('string', 'object', 'array')),
  },
  { requiredKeys: [] },
);

const v2Spec = fc.uniqueArray(name, { minLength: 0, maxLength: 5 }).chain((names) =>
  fc.record(
    {
      version: fc.constantFrom('1.0.0', '2.3.1'),
      description: maybe(fc.string()),
      context: maybe(
        fc.record({ title: fc.string(), riskLevel: fc.integer({ min: 0, max: 10 }) }, { requiredKeys: [] }),
      ),
      execution: maybe(
        fc.record(
          {
            mode: fc.constantFrom('pipeline', 'parallel', 'hybrid'),
            timeout: duration,
            retries: fc.integer({ min: 0, max: 5 }),
            parallelism: fc.integer({ min: 1, max: 9 }),
          },
          { requiredKeys: [] },
        ),
      ),
      budgets: maybe(fc.record({ tokens: fc.record({ total: fc.integer({ min: 1000, max: 9000 }) }) })),
      agents: fc.record(
        {
          pipeline: fc.tuple(
            ...names.map((stageName, index) =>
              fc.record(
                {
                  name: fc.constant(stageName),
                  version: fc.constantFrom('1.0.0', '1.2.0'),
                  dependsOn: fc.subarray(names.slice(0, index)),
                  image: fc.constant('example.com/agent:1'),
                  config: stageConfig,
                },
                { requiredKeys: ['name'] },
              ),
            ),
          ),
          conductor: fc.record({ role: fc.constant('orchestrator') }),
          core: fc.dictionary(
            name,
            fc.record({ role: fc.string(), config: fc.dictionary(name, fc.string()) }, { requiredKeys: [] }),
          ),
          deployment: fc.dictionary(name, fc.record({ enabled: fc.boolean() }, { requiredKeys: [] })),
        },
        { requiredKeys: [] },
      ),
    },
    { requiredKeys: ['version', 'agents'] },
  ),
);

const v1Spec = fc.uniqueArray(name, { minLength: 0, maxLength: 5 }).chain((names) =>
  fc.record(
    {
      version: fc.constant('1.0.0'),
      execution: maybe(
        fc.record(
          { mode: fc.constantFrom('pipeline', 'hybrid'), retries: fc.integer({ min: 0, max: 3 }) },
          { requiredKeys: [] },
        ),
      ),
      agents: fc.record(
        Object.fromEntries(
          names.map((agentName) => [
            agentName,
            fc.record(
              {
                version: fc.constant('1.1.0'),
                timeout: duration,
                // The 1.0.0 layout's settings at the top, beside others under config.
                inputs: fc.dictionary(name, fc.string()),
                failurePolicy: fc.constantFrom('abort', 'continue'),
                config: fc.record(
                  { retries: fc.integer({ min: 0, max: 3 }), parameters: fc.dictionary(name, fc.string()) },
                  { requiredKeys: [] },
                ),
              },
              { requiredKeys: [] },
            ),
          ]),
        ),
      ),
      legacy: maybe(
        fc.record({ options: fc.dictionary(name, fc.oneof(fc.string(), fc.integer(), fc.boolean())) }),
      ),
    },
    { requiredKeys: ['version', 'agents'] },
  ),
);

const metadata = fc.record(
  {
    name: fc.constant('rb'),
    namespace: fc.constant('ns'),
    // The API server drops empty maps, so an object never has annotations: {}.
    annotations: fc.dictionary(fc.constantFrom('a.example/x', 'owner'), fc.string(), { minKeys: 1 }),
  },
  { requiredKeys: ['name', 'namespace'] },
);
const status = maybe(
  fc.record({ phase: fc.constantFrom('Running', 'Succeeded'), progress: fc.constant('1/2') }),
);

describe('v1 <-> v2 conversion', () => {
  it('v2 -> v1 -> v2 gives back the identical object (property)', () => {
    fc.assert(
      fc.property(v2Spec, metadata, status, (spec, meta, st) => {
        const original = compact({
          apiVersion: V2,
          kind: 'AgentRunbook',
          metadata: meta,
          spec,
          ...(st ? { status: st } : {}),
        });
        const down = convertRunbook(original, V1);
        expect(validateAgentRunbookV1(down)).to.deep.equal([]);
        expect(convertRunbook(down, V2)).to.deep.equal(original);
      }),
      { numRuns: 300 },
    );
  });

  it('v1 -> v2 -> v1 gives back the identical object (property)', () => {
    fc.assert(
      fc.property(v1Spec, metadata, status, (spec, meta, st) => {
        const original = compact({
          apiVersion: V1,
          kind: 'AgentRunbook',
          metadata: meta,
          spec,
          ...(st ? { status: st } : {}),
        });
        const up = convertRunbook(original, V2);
        expect(validateAgentRunbook(up)).to.deep.equal([]);
        expect(convertRunbook(up, V1)).to.deep.equal(original);
      }),
      { numRuns: 300 },
    );
  });

  it('moves agents.<name>.timeout to the stage’s config.timeout and adds parallelism 5, as the specification’s migration says', () => {
    const up = convertRunbook(
      {
        apiVersion: V1,
        kind: 'AgentRunbook',
        metadata: { name: 'rb' },
        spec: {
          version: '1.0.0',
          agents: { research: { timeout: '2m', dependsOn: [] } },
          legacy: { options: { verbose: true } },
        },
      },
      V2,
    );
    expect(up.spec).to.deep.equal({
      version: '1.0.0',
      agents: { pipeline: [{ name: 'research', dependsOn: [], config: { timeout: '2m' } }] },
      execution: { parallelism: 5 },
    });
    expect(
      JSON.parse(
        (up.metadata as { annotations: Record<string, string> }).annotations[ANNOTATION_V1_FIELDS] ?? '',
      ),
    ).to.deep.equal([{ path: ['legacy'], value: { options: { verbose: true } } }]);
  });

  it('moves the 1.0.0 layout’s top-level settings under config, and gives them back where they were', () => {
    const original = {
      apiVersion: V1,
      kind: 'AgentRunbook',
      metadata: { name: 'rb' },
      spec: {
        version: '1.0.0',
        agents: {
          research: {
            timeout: '2m',
            retries: 2,
            inputs: { idea: '${context.title}' },
            outputs: { market_research: 'object' },
            config: { parameters: { depth: 'moderate' } },
          },
        },
      },
    };
    const up = convertRunbook(original, V2);
    expect((up.spec as { agents: unknown }).agents).to.deep.equal({
      pipeline: [
        {
          name: 'research',
          config: {
            timeout: '2m',
            retries: 2,
            inputs: { idea: '${context.title}' },
            outputs: { market_research: 'object' },
            parameters: { depth: 'moderate' },
          },
        },
      ],
    });
    expect(validateAgentRunbook(up)).to.deep.equal([]);
    expect(convertRunbook(up, V1)).to.deep.equal(original);
  });

  it('keeps what v1 cannot hold in an annotation', () => {
    const down = convertRunbook(
      {
        apiVersion: V2,
        kind: 'AgentRunbook',
        metadata: { name: 'rb' },
        spec: { version: '1.0.0', execution: { parallelism: 3 }, agents: { core: { librarian: {} } } },
      },
      V1,
    );
    expect(down.spec).to.deep.equal({ version: '1.0.0', agents: {} });
    expect((down.metadata as { annotations: Record<string, string> }).annotations).to.have.property(
      ANNOTATION_V2_FIELDS,
    );
  });

  it('runs a step only when its CEL condition holds', () => {
    const withParallelism = migrate({ spec: { agents: {}, execution: { parallelism: 2 } } }, V1_TO_V2);
    expect((withParallelism.spec as Json).execution).to.deep.equal({ parallelism: 2 });
  });

  it('refuses what it cannot convert', () => {
    expect(() => convertRunbook({ apiVersion: 'i2s.studio/v9', spec: {} }, V2)).to.throw(
      'cannot convert i2s.studio/v9',
    );
  });

  describe('hostile paths never reach a prototype', () => {
    const polluted = () => (Object.prototype as Json).suspend ?? (Object.prototype as Json).options;
    afterEach(() => {
      Reflect.deleteProperty(Object.prototype, 'suspend');
      Reflect.deleteProperty(Object.prototype, 'options');
    });

    it('a stashed patch through __proto__ or constructor stays data in the converted object', () => {
      for (const path of [
        ['__proto__', 'suspend'],
        ['constructor', 'prototype', 'suspend'],
      ]) {
        const up = convertRunbook(
          {
            apiVersion: V1,
            kind: 'AgentRunbook',
            metadata: {
              name: 'rb',
              annotations: { [ANNOTATION_V2_FIELDS]: JSON.stringify([{ path, value: true }]) },
            },
            spec: { version: '1.0.0', agents: {} },
          },
          V2,
        );
        expect(polluted(), path.join('.')).to.equal(undefined);
        expect(({} as Json).suspend).to.equal(undefined);
        expect(Object.hasOwn(up.spec as Json, path[0] ?? '')).to.equal(true);
      }
    });

    it('refuses a stashed annotation that is not a list of patches, naming it', () => {
      for (const stashed of [
        '{}',
        '[{"path":5,"value":1}]',
        '[{"path":[],"value":1}]',
        '[{"path":["a"]}]',
        '[null]',
      ]) {
        expect(() =>
          convertRunbook(
            {
              apiVersion: V1,
              kind: 'AgentRunbook',
              metadata: { name: 'rb', annotations: { [ANNOTATION_V2_FIELDS]: stashed } },
              spec: { version: '1.0.0', agents: {} },
            },
            V2,
          ),
        ).to.throw(`annotation ${ANNOTATION_V2_FIELDS} is not a list of conversion patches`);
      }
    });

    it('a map key named __proto__ under a wildcard of the migration stays data', () => {
      const agents = JSON.parse('{"__proto__": {"timeout": "30s", "options": {"x": 1}}}') as Json;
      migrate({ spec: { version: '1.0.0', agents } }, V1_TO_V2);
      expect(polluted()).to.equal(undefined);
    });
  });
});
