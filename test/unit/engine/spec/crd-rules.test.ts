import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { AgentRunbook } from '../../../../src/api/v2/runbook.js';
import { AgentRunbookTemplate } from '../../../../src/api/v2/template.js';
import { crdRuleProblems } from '../../../../src/engine/spec/crd-rules.js';
import { repoRoot } from '../../../../hack/local-cluster/paths.js';
import { exampleFiles, loadExample } from '../../../support/runbooks.js';
import { BROKEN_CEL_RULES } from '../../../support/invalid-runbooks.js';

describe("the CRD's CEL rules, evaluated offline", () => {
  it('names each rule a runbook breaks, with its field and message', () => {
    const problems = crdRuleProblems(AgentRunbook, BROKEN_CEL_RULES, '').map(
      (p) => `${p.field}: ${p.message}`,
    );
    expect(problems).to.have.members([
      '.spec.environment: environment nope is not defined in spec.environments',
      '.spec.execution.retryStrategy: retryStrategy ghost is not defined in spec.retryStrategies',
      '.spec.quality.gates: a quality gate names in before a stage that is not in spec.agents.pipeline',
      '.spec.budgets.tokens.perAgent: perAgent must not exceed total',
      '.spec.agents.pipeline[a].config.validation.minLength: validation.minLength must not exceed validation.maxLength',
      '.spec.workflows.fallback.steps[s].agent: a step needs agent unless its action is terminate',
    ]);
  });

  for (const file of exampleFiles()) {
    it(`passes examples/${file}`, () => {
      expect(crdRuleProblems(AgentRunbook, loadExample(file), '')).to.deep.equal([]);
    });
  }

  it('passes every library template', () => {
    const dir = join(repoRoot, 'config', 'templates');
    for (const file of readdirSync(dir).filter((name) => name !== 'kustomization.yaml')) {
      const template: unknown = parse(readFileSync(join(dir, file), 'utf8'));
      expect(crdRuleProblems(AgentRunbookTemplate, template, ''), file).to.deep.equal([]);
    }
  });
});
