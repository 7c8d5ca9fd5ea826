import { expect } from 'chai';
import type { SpecV2 } from '../../../src/api/v2/runbook.js';
import { validateRunbookSpec } from '../../../src/webhook/validate-runbook.js';
import { childRunbookReview } from '../../../src/webhook/child-checks.js';

const spec = (stages: SpecV2['agents']['pipeline']): SpecV2 => ({
  version: '1.0.0',
  context: { riskLevel: 4 },
  agents: { pipeline: stages },
});

const problemsOf = (stages: SpecV2['agents']['pipeline']) => validateRunbookSpec(spec(stages));

describe('admission of when conditions', () => {
  it('accepts a condition over the context, parameters and a named stage’s outputs', () => {
    expect(
      problemsOf([
        { name: 'research' },
        {
          name: 'review',
          when: "riskLevel > 3 && parameters.strict == true && outputs.research.risk > 2 && has(outputs['research'].x)",
          config: { parameters: { strict: true }, outputs: { verdict: 'string' } },
          skippedOutputs: { verdict: 'none' },
        },
      ]),
    ).to.deep.equal([]);
  });

  it('refuses what is not valid CEL, naming the field', () => {
    const [problem] = problemsOf([{ name: 'a', when: 'riskLevel >' }]);
    expect(problem?.field).to.equal('spec.agents.pipeline[0].when');
    expect(problem?.message).to.match(/^is not a valid CEL expression/);
  });

  it('refuses a variable a condition cannot read', () => {
    const [problem] = problemsOf([{ name: 'a', when: 'secrets.token == "x"' }]);
    expect(problem?.field).to.equal('spec.agents.pipeline[0].when');
    expect(problem?.message).to.match(/uses "secrets", which is not a variable a condition can read/);
  });

  it('refuses a condition over its cost', () => {
    const nested =
      '[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50]';
    const [problem] = problemsOf([
      { name: 'a', when: `${nested}.all(x, ${nested}.all(y, ${nested}.all(z, x + y + z > 0)))` },
    ]);
    expect(problem?.message).to.match(/estimated cost of \d+, over the limit of 100000/);
  });

  it('refuses outputs of a stage that does not exist, its own outputs, and outputs read other than by name', () => {
    const problems = problemsOf([
      { name: 'a', when: 'outputs.ghost.x == 1' },
      { name: 'b', when: 'outputs.b.x == 1' },
      { name: 'c', when: "outputs['a'].x == 1 && size(outputs) > 0" },
    ]);
    expect(problems).to.deep.include({
      field: 'spec.agents.pipeline[0].when',
      message: 'reads outputs.ghost, but there is no stage ghost in spec.agents.pipeline',
    });
    expect(problems).to.deep.include({
      field: 'spec.agents.pipeline[1].when',
      message: 'reads outputs.b, its own outputs',
    });
    expect(problems.find((p) => p.field === 'spec.agents.pipeline[2].when')?.message).to.match(
      /reads outputs other than by a stage's name/,
    );
  });

  it('refuses a cycle made through when', () => {
    const [problem] = problemsOf([
      { name: 'a', when: 'outputs.b.ok' },
      { name: 'b', dependsOn: ['a'] },
    ]);
    expect(problem).to.deep.equal({
      field: 'spec.agents.pipeline',
      message: 'the stages depend on each other in a cycle: a -> b -> a',
    });
  });

  it('refuses skippedOutputs on a stage that cannot be skipped, or for an output it does not declare', () => {
    expect(problemsOf([{ name: 'a', skippedOutputs: { x: 1 } }])).to.deep.equal([
      {
        field: 'spec.agents.pipeline[0].skippedOutputs',
        message:
          'the stage has no when condition, so it is never skipped by one: set when, or remove skippedOutputs',
      },
    ]);
    expect(
      problemsOf([
        { name: 'a', when: 'true', config: { outputs: { y: 'string' } }, skippedOutputs: { x: 1 } },
      ]),
    ).to.deep.equal([
      {
        field: 'spec.agents.pipeline[0].skippedOutputs.x',
        message: 'gives output x, which config.outputs does not declare',
      },
    ]);
  });
});

describe('admission of forEach stages', () => {
  const withContext = (stages: SpecV2['agents']['pipeline']): SpecV2 => ({
    ...spec(stages),
    context: { domains: ['a', 'b'], title: 'T' },
  });

  it('accepts a literal list, a context list and an upstream output, with item and index in the inputs', () => {
    expect(
      validateRunbookSpec(
        withContext([
          { name: 'research' },
          { name: 'a', forEach: [1, 2], config: { inputs: { x: '${item}', i: '${index}' } } },
          {
            name: 'b',
            forEach: '${context.domains}',
            maxParallel: 2,
            config: { inputs: { x: '${item|upper}' } },
          },
          {
            name: 'c',
            forEach: '${research.outputs.list}',
            onItemFailure: 'collect',
            config: { inputs: { x: '${item.name}' } },
          },
        ]),
      ),
    ).to.deep.equal([]);
  });

  it('refuses a forEach over something that is not a list, naming the field', () => {
    const problems = validateRunbookSpec(
      withContext([
        { name: 'a', forEach: 'just text' },
        { name: 'b', forEach: '${context.title}' },
        { name: 'c', forEach: { items: [1] } },
        { name: 'd', forEach: '${ghost.outputs.list}' },
        { name: 'e', forEach: '${e.outputs.list}' },
        { name: 'f', forEach: '${context.missing}' },
      ]),
    );
    expect(problems.map((problem) => problem.field)).to.deep.equal([
      'spec.agents.pipeline[0].forEach',
      'spec.agents.pipeline[1].forEach',
      'spec.agents.pipeline[2].forEach',
      'spec.agents.pipeline[3].forEach',
      'spec.agents.pipeline[4].forEach',
      'spec.agents.pipeline[5].forEach',
    ]);
    expect(problems[0]?.message).to.match(/^must be a list, or one whole reference to a list/);
    expect(problems[1]?.message).to.equal('reads context.title, which is string, not a list');
    expect(problems[3]?.message).to.equal(
      'reads ghost.outputs, but there is no stage ghost in spec.agents.pipeline',
    );
    expect(problems[4]?.message).to.equal('reads e.outputs, its own outputs');
    expect(problems[5]?.message).to.equal('reads ${context.missing}, but spec.context does not set it');
  });

  it('refuses a literal list longer than any forEach may be', () => {
    const [problem] = problemsOf([{ name: 'a', forEach: Array.from({ length: 10_001 }, (_, i) => i) }]);
    expect(problem).to.deep.equal({
      field: 'spec.agents.pipeline[0].forEach',
      message: 'lists 10001 items, over the 10000 any forEach may have',
    });
  });

  it('refuses ${item} and ${index} outside a forEach stage, and item settings without forEach', () => {
    expect(
      problemsOf([
        { name: 'a', maxParallel: 2, onItemFailure: 'collect', config: { inputs: { x: 'n=${index}' } } },
      ]),
    ).to.deep.equal([
      {
        field: 'spec.agents.pipeline[0].maxParallel',
        message: 'applies to the items of a forEach stage, and this stage has no forEach',
      },
      {
        field: 'spec.agents.pipeline[0].onItemFailure',
        message: 'applies to the items of a forEach stage, and this stage has no forEach',
      },
      {
        field: 'spec.agents.pipeline[0].config.inputs.x',
        message:
          'reads ${item} or ${index}, which only the inputs of a forEach stage have: give the stage a forEach',
      },
    ]);
  });
});

describe('admission of stages that run a runbook', () => {
  it('refuses agent settings beside runbook, and inputs that are no context field', () => {
    expect(
      problemsOf([
        {
          name: 'sub',
          runbook: { name: 'library' },
          image: 'registry.example/x:1',
          forEach: [1],
          config: { inputs: { title: 'ok', bogus: 'no' } },
        },
      ]).map((problem) => problem.field),
    ).to.deep.equal([
      'spec.agents.pipeline[0].image',
      'spec.agents.pipeline[0].forEach',
      'spec.agents.pipeline[0].config.inputs.bogus',
    ]);
    expect(
      problemsOf([{ name: 'sub', runbook: { name: 'library' }, image: 'registry.example/x:1' }]),
    ).to.deep.equal([
      {
        field: 'spec.agents.pipeline[0].image',
        message: 'a stage that runs a runbook runs no agent of its own, so image does not apply',
      },
    ]);
  });
});

describe('following the runbooks a runbook runs (cycles, depth, what named runbooks decide)', () => {
  const library = (stages: unknown[]) => ({ spec: { version: '1.0.0', agents: { pipeline: stages } } });
  const readFrom =
    (objects: Record<string, unknown>, asked: string[] = []) =>
    (path: string) => {
      asked.push(path);
      return Promise.resolve(objects[path] as never);
    };
  const at = (name: string) => `/apis/i2s.studio/v2/namespaces/team/agentrunbooks/${name}`;
  const running = (name: string): SpecV2 => spec([{ name: 'sub', runbook: { name } }]);

  it('refuses a cycle back to the runbook written, through runbooks and templates', async () => {
    const read = readFrom({
      [at('b')]: library([{ name: 'x', runbook: { template: { name: 't', kind: 'AgentRunbookTemplate' } } }]),
      '/apis/i2s.studio/v2/namespaces/team/agentrunbooktemplates/t': {
        spec: { runbook: { spec: library([{ name: 'y', runbook: { name: 'a' } }]).spec } },
      },
    });
    const review = await childRunbookReview(running('b'), 'a', 'team', read);
    expect(review.problems).to.deep.equal([
      {
        field: 'spec.agents.pipeline[0].runbook',
        message: 'runs runbooks in a cycle: runbook a -> runbook b -> template t -> runbook a',
      },
    ]);
    expect((await childRunbookReview(running('a'), 'a', 'team', readFrom({}))).problems[0]?.message).to.equal(
      'runs runbooks in a cycle: runbook a -> runbook a',
    );
  });

  it('refuses nesting deeper than 4, and reads a bounded number of objects', async () => {
    const chain = Object.fromEntries(
      Array.from({ length: 8 }, (_, i) => [
        at(`r${i}`),
        library([{ name: 's', runbook: { name: `r${i + 1}` } }]),
      ]),
    );
    const asked: string[] = [];
    const review = await childRunbookReview(running('r0'), 'top', 'team', readFrom(chain, asked));
    expect(review.problems[0]?.message).to.equal(
      'nests runbooks 5 deep (runbook r0 -> runbook r1 -> runbook r2 -> runbook r3 -> runbook r4), over the limit of 4',
    );
    expect(asked.length).to.be.at.most(32);
  });

  it('gives what a named runbook decides, at the field that names it, for the writer to be checked against', async () => {
    const read = readFrom({ [at('lib')]: library([{ name: 'c', image: 'registry.example/tools/x:1' }]) });
    const review = await childRunbookReview(running('lib'), 'mine', 'team', read);
    expect(review.problems).to.deep.equal([]);
    expect(review.authority).to.deep.equal([
      {
        field: "spec.agents.pipeline[0].runbook (runbook lib's spec.agents.pipeline[0].image)",
        kind: 'image',
        value: 'registry.example/tools/x:1',
      },
    ]);
  });

  it('leaves a runbook it cannot read to the run', async () => {
    const review = await childRunbookReview(running('missing'), 'mine', 'team', readFrom({}));
    expect(review).to.deep.equal({ problems: [], authority: [] });
  });
});
