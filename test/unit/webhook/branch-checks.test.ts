import { expect } from 'chai';
import type { SpecV2 } from '../../../src/api/v2/runbook.js';
import { validateRunbookSpec } from '../../../src/webhook/validate-runbook.js';

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
