import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { convertRunbook } from '../../../src/api/conversion.js';
import type { Json } from '../../../src/api/json.js';
import { repoRoot } from '../../../hack/local-cluster/paths.js';
import { reviewAdmission, reviewConversion } from '../../../src/webhook/admission.js';
import { settingWarnings, versionWarnings } from '../../../src/webhook/runbook-warnings.js';
import { validateRunbookSpec } from '../../../src/webhook/validate-runbook.js';
import type { SpecV2 } from '../../../src/api/v2/runbook.js';
import { effectiveSpec } from '../../../src/engine/spec/effective.js';
import { buildInvalid, INVALID_CASES } from '../../support/invalid-runbooks.js';
import { exampleFiles, loadExample } from '../../support/runbooks.js';
import { deepObject, DOMAINS, nestedAll } from '../../support/hostile-input.js';

const base = (
  extra: Partial<SpecV2> = {},
  stages: NonNullable<SpecV2['agents']['pipeline']> = [{ name: 'a' }, { name: 'b', dependsOn: ['a'] }],
): SpecV2 => ({
  version: '1.0.0',
  execution: { mode: 'hybrid' },
  ...extra,
  agents: { ...extra.agents, pipeline: stages },
});

const fields = (spec: SpecV2) => validateRunbookSpec(spec).map((p) => `${p.field}: ${p.message}`);

describe('semantic validation (the validating webhook)', () => {
  it('accepts a sound runbook', () => {
    expect(fields(base())).to.deep.equal([]);
  });

  for (const file of exampleFiles()) {
    it(`accepts examples/${file}`, () => {
      expect(fields(loadExample(file).spec as SpecV2)).to.deep.equal([]);
    });
  }

  it('refuses workspaces that cannot be mounted as written, naming the field and the rule', () => {
    const claim = { spec: { resources: { requests: { storage: '1Gi' } } } };
    const problems = fields(
      base(
        {
          workspaces: [
            { name: 'shared', volumeClaimTemplate: { ...claim, metadata: { labels: { 'bad key!': 'x' } } } },
            { name: 'scratch', emptyDir: {} },
          ],
        },
        [
          {
            name: 'a',
            workspaces: [{ name: 'missing' }, { name: 'scratch' }, { name: 'shared', mountPath: '/tmp' }],
          },
          {
            name: 'b',
            dependsOn: ['a'],
            workspaces: [{ name: 'scratch' }, { name: 'shared', mountPath: '/data' }],
          },
          { name: 'c', workspaces: [{ name: 'shared', mountPath: '/' }] },
          {
            name: 'd',
            workspaces: [
              { name: 'shared', mountPath: '/data' },
              { name: 'scratch', mountPath: '/data/' },
            ],
          },
        ],
      ),
    );
    expect(problems).to.deep.equal([
      'spec.workspaces[0].volumeClaimTemplate.metadata.labels.bad key!: is not a valid key: [prefix/]name, as labels and annotations take',
      'spec.agents.pipeline[0].workspaces[0].name: names no workspace of spec.workspaces',
      "spec.agents.pipeline[0].workspaces[2].mountPath: /tmp would hide /tmp, where the operator mounts the agent's files or scratch",
      "spec.agents.pipeline[1].workspaces[0].name: workspace scratch is an emptyDir, which lives in one stage's Pod, and stage a names it already: give it a volumeClaimTemplate to share files between stages",
      "spec.agents.pipeline[2].workspaces[0].mountPath: / would hide /var/run/agentrunbook, where the operator mounts the agent's files or scratch",
      "spec.agents.pipeline[3].workspaces[1].name: workspace scratch is an emptyDir, which lives in one stage's Pod, and stage a names it already: give it a volumeClaimTemplate to share files between stages",
      'spec.agents.pipeline[3].workspaces[1].mountPath: this stage mounts another workspace at /data already',
    ]);
  });

  it('warns about steps after a terminate step, which never run', () => {
    const warnings = settingWarnings(
      base({
        workflows: {
          main: { steps: [{ name: 'a' }, { name: 'halt', action: 'terminate' }, { name: 'b' }] },
        },
      }),
    );
    expect(warnings).to.include(
      'spec.workflows.main.steps[2]: step halt (action terminate) ends the main workflow, so b never run',
    );
  });

  it('warns about a workspace no stage names', () => {
    const warnings = settingWarnings(base({ workspaces: [{ name: 'unused', emptyDir: {} }] }));
    expect(warnings).to.include(
      'spec.workspaces[0]: no stage of spec.agents.pipeline names workspace unused, so the operator makes nothing for it',
    );
  });

  it('refuses inputs whose references can never resolve, quoting each (issue 25)', () => {
    const problems = fields(
      base({ context: { title: 'T' } }, [
        {
          name: 'a',
          config: {
            inputs: {
              bogus: '${context.title|bogus}',
              negative: '${context.title|truncate:-1}',
              unclosed: 'about ${context.title',
              secret: '${$secret}',
              runbook: '${$runbook.uid}',
              fine: 'at ${$timestamp} for ${$runbook.name}: ${context.title|slug|truncate:10}',
            },
          },
        },
      ]),
    );
    expect(problems).to.deep.equal([
      'spec.agents.pipeline[0].config.inputs.bogus: ${context.title|bogus}: unknown transform "bogus" (slug, upper, lower, truncate:N)',
      'spec.agents.pipeline[0].config.inputs.negative: ${context.title|truncate:-1}: truncate needs a whole number, as in truncate:100',
      'spec.agents.pipeline[0].config.inputs.unclosed: "about ${context.title" has a ${ that is never closed with }',
      'spec.agents.pipeline[0].config.inputs.secret: ${$secret}: a reference is context.<field>, <stage>.outputs[.<name>], $runbook.<name|namespace|version>, $timestamp, or in a forEach stage item[.<field>] or index',
      'spec.agents.pipeline[0].config.inputs.runbook: ${$runbook.uid}: $runbook has name, namespace and version',
    ]);
  });

  it('refuses a runbook that runs no stage, instead of advising parallelism 0', () => {
    expect(fields(base({}, []))).to.deep.equal([
      'spec.agents.pipeline: the runbook runs no stage: give spec.agents.pipeline a stage, or spec.workflows.main a step that runs one',
    ]);
  });

  it('refuses a dependsOn cycle in the pipeline when main workflow steps run its stages too', () => {
    const [problem] = fields(
      base({ workflows: { main: { steps: [{ name: 'a' }, { name: 'b' }] } } }, [
        { name: 'a', dependsOn: ['b'] },
        { name: 'b', dependsOn: ['a'] },
      ]),
    );
    expect(problem).to.match(/^spec\.agents\.pipeline: .*cycle: (a -> b -> a|b -> a -> b)/);
  });

  it('names a dependency cycle', () => {
    const [problem] = fields(
      base({}, [
        { name: 'a', dependsOn: ['b'] },
        { name: 'b', dependsOn: ['a'] },
      ]),
    );
    expect(problem).to.match(/^spec\.agents\.pipeline: .*cycle: (a -> b -> a|b -> a -> b)/);
  });

  it('refuses ${<stage>.outputs} of a stage that does not exist; reading a later stage orders it first, as the engine does', () => {
    const problems = fields(
      base({}, [
        { name: 'a', config: { inputs: { x: '${b.outputs.y}', z: '${nope.outputs.q}' } } },
        { name: 'b' },
      ]),
    );
    expect(problems).to.deep.equal([
      'spec.agents.pipeline[0].config.inputs.z: refers to ${nope.outputs...}, but there is no stage nope',
    ]);
  });

  it('counts earlier stages as ancestors in pipeline mode', () => {
    expect(
      fields(
        base({ execution: { mode: 'pipeline' } }, [
          { name: 'a' },
          { name: 'b', config: { inputs: { x: '${a.outputs.y}' } } },
        ]),
      ),
    ).to.deep.equal([]);
  });

  it('refuses workflow steps that name unknown agents', () => {
    const spec = base({
      workflows: {
        fallback: { trigger: { conditions: ['TIMEOUT'] }, steps: [{ name: 's', agent: 'ghost' }] },
      },
    });
    expect(fields(spec)).to.deep.equal([
      'spec.workflows.fallback.steps[0].agent: names agent ghost, which is neither a stage of spec.agents.pipeline nor an entry of spec.agents.core',
    ]);
  });

  it('refuses a metric the operator cannot produce as declared, naming the field', () => {
    const problems = fields(
      base({
        monitoring: {
          metrics: [
            { name: 'execution_duration', type: 'gauge' },
            { name: 'stage_success_rate', type: 'gauge', labels: ['stage_name', 'execution_id'] },
            { name: 'tokens_used', type: 'counter', buckets: [1, 2] },
            { name: 'stage_duration', type: 'histogram', buckets: [5, 5] },
            { name: 'resource_utilization', type: 'counter', labels: ['resource_type', 'execution_id'] },
          ],
        },
      }),
    );
    expect(problems).to.deep.equal([
      'spec.monitoring.metrics[0].type: execution_duration is a histogram, not a gauge',
      'spec.monitoring.metrics[1].labels: stage_success_rate has no label execution_id; it can carry namespace, runbook_name, version, environment, stage_name, agent_type, workflow',
      'spec.monitoring.metrics[2].buckets: only a histogram has buckets; tokens_used is a counter',
      'spec.monitoring.metrics[3].buckets: the bucket bounds must be ascending, each larger than the last',
    ]);
  });

  it('refuses an alert condition that does not compile to a bool over the alert variables', () => {
    const problems = fields(
      base({
        monitoring: {
          alerts: [
            { name: 'a', condition: 'execution_duration > 20m', severity: 'high' },
            { name: 'b', condition: 'execution_duration > 20', severity: 'high' },
            { name: 'c', condition: 'context.riskLevel > 3', severity: 'low' },
            { name: 'd', condition: 'tokens_used', severity: 'low' },
          ],
        },
      }),
    );
    expect(problems).to.have.length(3);
    expect(problems[0]).to.match(/^spec\.monitoring\.alerts\[1\]\.condition: .*no such overload/);
    expect(problems[1]).to.match(/^spec\.monitoring\.alerts\[2\]\.condition: .*Unknown variable: context/);
    expect(problems[2]).to.equal('spec.monitoring.alerts[3].condition: is of type int, not bool');
  });

  it('refuses a gate condition that does not compile, with the compiler’s message', () => {
    const [problem] = fields(base({ quality: { gates: [{ name: 'g', condition: 'context.riskLevel >' }] } }));
    expect(problem).to.match(/^spec\.quality\.gates\[0\]\.condition: is not a valid CEL expression: .+/);
  });

  it('refuses what the CRD cannot check in untyped fields, naming the field and the rule', () => {
    for (const testCase of INVALID_CASES.filter((c) => c.webhookOnly === 'semantic')) {
      const spec = (buildInvalid(testCase) as { spec: SpecV2 }).spec;
      expect(fields(spec)).to.include(`${testCase.field}: ${testCase.message ?? ''}`);
    }
  });

  it('refuses a maxConcurrentPipelines that is not a whole number of runbooks, wherever the conductor is', () => {
    for (const limit of [0, -1, 2.5, '10', 1e308, null]) {
      const spec = base({ agents: { core: { conductor: { config: { maxConcurrentPipelines: limit } } } } });
      expect(fields(spec)).to.include(
        `spec.agents.core.conductor.config.maxConcurrentPipelines: must be a whole number of runbooks, at least 1 (got ${JSON.stringify(limit)})`,
      );
    }
  });

  it('lowers a share that an environment overlay leaves above its whole, and warns, instead of refusing', () => {
    const spec = base({
      budgets: { tokens: { total: 1000, perAgent: 500 }, cost: { maxUSD: 10, alertThreshold: '8.00' } },
      environments: { testing: { budgets: { tokens: 100, cost: 5 } } },
    });
    expect(fields(spec)).to.deep.equal([]);
    expect(settingWarnings(spec)).to.include.members([
      'spec.environments.testing.budgets: with this overlay tokens.perAgent (500) lowered to tokens.total (100); set it in the overlay to choose another value',
      'spec.environments.testing.budgets: with this overlay cost.alertThreshold (8.00) lowered to cost.maxUSD (5.00); set it in the overlay to choose another value',
    ]);
    expect(effectiveSpec({ ...spec, environment: 'testing' }).budgets).to.deep.equal({
      tokens: { total: 100, perAgent: 100 },
      cost: { maxUSD: '5.00', alertThreshold: '5.00' },
    });
  });
});

describe('version warnings', () => {
  it('warns when the spec changes but spec.version does not', () => {
    expect(versionWarnings(base(), { ...base(), description: 'new' })[0]).to.contain(
      'spec.version is still 1.0.0',
    );
  });

  it('warns when removing a stage is not a major bump', () => {
    const next = { ...base({}, [{ name: 'a' }]), version: '1.1.0' };
    expect(versionWarnings(base(), next)[0]).to.contain(
      'removing stage b is a breaking change: spec.version should get a major bump',
    );
  });

  it('is quiet for a fitting bump or no change', () => {
    expect(versionWarnings(base(), { ...base({}, [{ name: 'a' }]), version: '2.0.0' })).to.deep.equal([]);
    expect(versionWarnings(base(), base())).to.deep.equal([]);
  });
});

describe('reviews', () => {
  it('answers an AdmissionReview: refused with every field named, or allowed with warnings', () => {
    const refused = reviewAdmission({
      request: {
        uid: 'u1',
        operation: 'CREATE',
        object: { spec: base({}, [{ name: 'a', dependsOn: ['a'] }]) },
      },
    });
    expect(refused.response).to.deep.include({ uid: 'u1', allowed: false });
    expect(JSON.stringify(refused.response)).to.contain('spec.agents.pipeline');
    const warned = reviewAdmission({
      request: {
        uid: 'u2',
        operation: 'UPDATE',
        object: { spec: { ...base(), tags: ['x'] } },
        oldObject: { spec: base() },
      },
    });
    expect(warned.response).to.deep.include({ uid: 'u2', allowed: true });
    expect((warned.response as { warnings: string[] }).warnings).to.have.length(1);
  });

  it('does not judge again an update that leaves the spec alone (ratcheting)', () => {
    const cyclic = base({}, [{ name: 'a', dependsOn: ['a'] }]);
    const review = reviewAdmission({
      request: { uid: 'u3', operation: 'UPDATE', object: { spec: cyclic }, oldObject: { spec: cyclic } },
    });
    expect(review.response).to.deep.include({ uid: 'u3', allowed: true });
  });

  it('says what is wrong with a request sent as v1 at the v1 fields, and checks v2’s rules on it', () => {
    const v1 = parse(readFileSync(join(repoRoot, 'examples', 'v1', 'legacy-layout.yaml'), 'utf8')) as Json & {
      spec: { agents: Record<string, Record<string, unknown>>; quality?: unknown };
    };
    (v1.spec.agents.research ?? {}).config = { inputs: { x: '${nowhere.outputs.x}' } };
    const sent = (object: Json, version: string) =>
      reviewAdmission({
        request: {
          uid: 'v1',
          operation: 'CREATE',
          requestKind: { group: 'i2s.studio', version, kind: 'AgentRunbook' },
          object: convertRunbook(object, 'i2s.studio/v2'),
        },
      }) as { response: { allowed: boolean; status?: { message: string } } };
    const asV1 = sent(v1, 'v1').response;
    expect(asV1.allowed).to.equal(false);
    expect(asV1.status?.message).to.contain('spec.agents.research.config.inputs.x');
    expect(asV1.status?.message).not.to.contain('pipeline');
    expect(sent(v1, 'v2').response.status?.message).to.contain('spec.agents.pipeline[1].config.inputs.x');
    const gated = parse(
      readFileSync(join(repoRoot, 'examples', 'v1', 'legacy-layout.yaml'), 'utf8'),
    ) as Json & {
      spec: Record<string, unknown>;
    };
    gated.spec.quality = { gates: [{ name: 'review', before: 'nowhere' }] };
    const refused = sent(gated, 'v1').response;
    expect(refused.allowed).to.equal(false);
    expect(refused.status?.message).to.contain('spec.quality.gates');
  });

  it('answers a malformed ConversionReview with a failed review, not an exception', () => {
    for (const body of [
      null,
      {},
      { request: { uid: 'x' } },
      { request: { uid: 'x', desiredAPIVersion: 'i2s.studio/v1', objects: [42] } },
    ]) {
      const review = reviewConversion(body) as { response: { result: { status: string; message: string } } };
      expect(review.response.result.status).to.equal('Failure');
      expect(review.response.result.message).to.be.a('string').and.not.empty;
    }
  });

  it('fails a ConversionReview whose object is nested past the bound, naming where', () => {
    const spec = deepObject(5000, { leaf: 1 });
    const review = reviewConversion({
      request: {
        uid: 'u',
        desiredAPIVersion: 'i2s.studio/v1',
        objects: [{ apiVersion: 'i2s.studio/v2', spec }],
      },
    }) as { response: { result: { status: string; message: string } } };
    expect(review.response.result.status).to.equal('Failure');
    expect(review.response.result.message)
      .to.contain('objects[0].spec.a')
      .and.contain('nested deeper than 32 levels');
  });

  it('converts the objects of a ConversionReview', () => {
    const review = reviewConversion({
      request: {
        uid: 'c1',
        desiredAPIVersion: 'i2s.studio/v2',
        objects: [
          {
            apiVersion: 'i2s.studio/v1',
            kind: 'AgentRunbook',
            metadata: { name: 'x' },
            spec: { version: '1.0.0', agents: { a: { timeout: '1m' } } },
          },
        ],
      },
    }) as {
      response: { uid: string; convertedObjects: { apiVersion: string }[]; result: { status: string } };
    };
    expect(review.response).to.deep.include({ uid: 'c1', result: { status: 'Success' } });
    expect(review.response.convertedObjects[0]?.apiVersion).to.equal('i2s.studio/v2');
  });
});

describe('admission of hostile specs (issue 9)', () => {
  const refusal = (spec: unknown) => {
    const review = reviewAdmission({ request: { uid: 'u', operation: 'CREATE', object: { spec } } }) as {
      response: { allowed: boolean; status?: { message: string } };
    };
    expect(review.response.allowed, 'refused').to.equal(false);
    return review.response.status?.message ?? '';
  };
  const HOSTILE: [string, unknown, string][] = [
    [
      'a CEL condition nesting all() five deep over 64 domains',
      base({
        context: { domains: DOMAINS },
        quality: {
          gates: [
            {
              name: 'g',
              condition: nestedAll(5),
            },
          ],
        },
      }),
      'spec.quality.gates[0].condition: has an estimated cost of',
    ],
    [
      'gate conditions that are affordable one by one but not together',
      base({
        context: { domains: DOMAINS },
        quality: {
          gates: Array.from({ length: 5 }, (_, index) => ({
            name: `g${index}`,
            condition: 'context.domains.all(a, context.domains.exists(b, a == b))',
          })),
        },
      }),
      'spec.quality.gates: the conditions have an estimated cost of',
    ],
    [
      'a gate condition reading a variable no runbook has (issue 10)',
      base({ quality: { gates: [{ name: 'g', condition: 'riskLevel > 7 && risk_score > 3' }] } }),
      'spec.quality.gates[0].condition: uses "risk_score", which is not a variable a condition can read',
    ],
    [
      'a validation pattern RE2 cannot run (a backreference)',
      base({}, [
        {
          name: 'a',
          config: { validation: { schema: { properties: { inputs: { pattern: '(a)\\1' } } } } },
        },
      ]),
      'spec.agents.pipeline[0].config.validation.schema: is not a valid JSON Schema with RE2 patterns',
    ],
    [
      'more workspaces than a run may make',
      base({ workspaces: Array.from({ length: 17 }, (_, index) => ({ name: `w${index}`, emptyDir: {} })) }),
      'spec.workspaces',
    ],
    [
      'a workspace claim template that is not a quantity of storage',
      base({
        workspaces: [
          { name: 'w', volumeClaimTemplate: { spec: { resources: { requests: { storage: '1 TB; rm' } } } } },
        ],
      }),
      'spec.workspaces[0].volumeClaimTemplate.spec.resources.requests.storage',
    ],
    [
      'a run timeout of 1000 hours',
      base({ execution: { mode: 'hybrid', timeout: '1000h' } }),
      'spec.execution.timeout: must be a duration of at most 168h',
    ],
    [
      'a retry multiplier of 1e12',
      base({ retryStrategies: { fast: { type: 'exponential', multiplier: 1e12 } } }),
      'spec.retryStrategies.fast.multiplier',
    ],
    [
      'a backoffMultiplier of 1e300',
      base({ retryStrategies: { odd: { type: 'custom', parameters: { backoffMultiplier: 1e300 } } } }),
      'spec.retryStrategies.odd.parameters.backoffMultiplier',
    ],
    [
      'a fallback step named like a pipeline stage',
      base({
        workflows: {
          fallback: { trigger: { conditions: ['API_ERROR'] }, steps: [{ name: 'b', agent: 'a' }] },
        },
      }),
      'spec.workflows.fallback.steps[0].name: runs as stage b, a name spec.agents.pipeline[1].name already has',
    ],
    [
      'two deployment agents that make one stage name',
      base({ agents: { deployment: { a_b: {}, 'a-b': {} } } }),
      'spec.agents.deployment.a-b: runs as stage validate-a-b',
    ],
    [
      'a main step whose pipeline stage answers to another step’s name',
      base({
        workflows: {
          main: {
            steps: [
              { name: 'x', agent: 'a' },
              { name: 'a', agent: 'b' },
            ],
          },
        },
      }),
      'spec.workflows.main.steps[0].name: runs pipeline stage a, whose outputs would answer to the name that spec.workflows.main.steps[1].name has',
    ],
  ];
  for (const [what, spec, message] of HOSTILE) {
    it(`refuses ${what}, naming the field`, () => {
      expect(refusal(spec)).to.contain(message);
    });
  }
});

describe('admission knows what can run (issue 10)', () => {
  it('refuses a step whose stage reads the outputs of a stage no step runs, naming the step', () => {
    const spec = base({ workflows: { main: { steps: [{ name: 'research_step', agent: 'research' }] } } }, [
      { name: 'normalize' },
      { name: 'research', config: { inputs: { idea: '${normalize.outputs.idea}' } } },
    ]);
    expect(fields(spec)).to.deep.equal([
      'spec.workflows.main.steps[0]: runs stage research, whose config.inputs.idea reads the outputs of stage normalize, which no step of spec.workflows.main runs: add a step that runs normalize before it',
    ]);
    const fixed = base(
      {
        workflows: {
          main: {
            steps: [
              { name: 'normalize_step', agent: 'normalize' },
              { name: 'research_step', agent: 'research' },
            ],
          },
        },
      },
      spec.agents.pipeline,
    );
    expect(fields(fixed)).to.deep.equal([]);
  });

  it('refuses a ${context.<field>} the runbook does not set, naming the field and the path', () => {
    const spec = base({ context: { title: 'x', riskLevel: 3 } }, [
      { name: 'a', config: { inputs: { t: '${context.title}', m: '${context.ideaText|slug}' } } },
      { name: 'b', config: { inputs: { deep: 'about ${context.riskLevel.level}' } } },
    ]);
    expect(fields(spec)).to.deep.equal([
      'spec.agents.pipeline[0].config.inputs.m: reads ${context.ideaText}, but spec.context does not set ideaText',
      'spec.agents.pipeline[1].config.inputs.deep: reads ${context.riskLevel.level}, but spec.context does not set riskLevel.level',
    ]);
  });

  it('refuses a custom retry function that is not a documented name, naming the field', () => {
    const spec = base({
      retryStrategies: { custom: { type: 'custom', function: 'myOwnLogic', parameters: {} } },
    } as unknown as Partial<SpecV2>);
    const answer = reviewAdmission({
      request: { uid: 'u', operation: 'CREATE', object: { spec } },
    }) as { response: { allowed: boolean; status: { message: string } } };
    expect(answer.response.allowed).to.equal(false);
    expect(answer.response.status.message).to.contain('spec.retryStrategies.custom.function');
  });

  it('warns about conductor settings the operator does not act on, and budgets that serialize stages', () => {
    const spec = base({
      budgets: { tokens: { total: 1000 } },
      agents: { conductor: { config: { maxConcurrentPipelines: 10, budgetTracking: true, smartness: 11 } } },
    });
    const answer = reviewAdmission({
      request: { uid: 'u', operation: 'CREATE', object: { spec } },
    }) as { response: { allowed: boolean; warnings: string[] } };
    expect(answer.response.allowed).to.equal(true);
    expect(answer.response.warnings).to.have.length(2);
    expect(answer.response.warnings[0]).to.match(
      /^spec\.agents\.conductor\.config\.smartness: the operator does not act on this setting/,
    );
    expect(answer.response.warnings[1]).to.match(/^spec\.budgets\.tokens: without perAgent/);
  });
});
