import { expect } from 'chai';
import { validateAgentRunbook, validateAgentRunbookV1, fieldPath } from '../../../src/api/validator.js';
import { exampleFiles, loadExample, v1ExampleFiles } from '../../support/runbooks.js';
import { INVALID_CASES, buildInvalid } from '../../support/invalid-runbooks.js';

describe('the ajv validator generated from the API schema', () => {
  for (const file of exampleFiles()) {
    it(`accepts examples/${file}`, () => {
      expect(validateAgentRunbook(loadExample(file))).to.deep.equal([]);
    });
  }

  for (const file of v1ExampleFiles()) {
    it(`accepts examples/v1/${file} as v1`, () => {
      expect(validateAgentRunbookV1(loadExample(`v1/${file}`))).to.deep.equal([]);
    });
  }

  // CEL rules and list-map keys are the API server's to check; everything else ajv must refuse too.
  for (const testCase of INVALID_CASES.filter((c) => !c.serverOnly && c.webhookOnly !== 'semantic')) {
    it(`refuses ${testCase.title}, naming ${testCase.field}`, () => {
      const errors = validateAgentRunbook(buildInvalid(testCase));
      expect(errors.map((error) => error.field)).to.include(testCase.field);
    });
  }

  it('writes JSON pointers as kubectl field paths', () => {
    expect(fieldPath('/spec/agents/pipeline/1/name')).to.equal('spec.agents.pipeline[1].name');
    expect(fieldPath('/spec/retryStrategies/a~1b')).to.equal('spec.retryStrategies.a/b');
    expect(fieldPath('')).to.equal('');
  });

  it('names an unknown field by its full path', () => {
    const errors = validateAgentRunbook(
      buildInvalid({ title: 'x', set: [['spec.budgets', { tokens: { totl: 1 } }]], field: '' }),
    );
    expect(errors).to.deep.include({ field: 'spec.budgets.tokens.totl', message: 'unknown field' });
  });

  it('says in words what an image reference and a ServiceAccount name must be', () => {
    const runbook = buildInvalid({
      title: 'x',
      set: [
        ['spec.agents.pipeline.0.image', 'busybox; rm -rf / #'],
        ['spec.agents.pipeline.0.serviceAccountName', '../../kube-system/default'],
      ],
      field: '',
    });
    expect(validateAgentRunbook(runbook)).to.deep.include.members([
      {
        field: 'spec.agents.pipeline[0].image',
        message: 'must be an image reference: [registry[:port]/]name[:tag][@digest], lowercase path',
      },
      {
        field: 'spec.agents.pipeline[0].serviceAccountName',
        message: 'must be a Kubernetes name: lowercase letters, digits, - and . (a DNS subdomain)',
      },
    ]);
  });
});
