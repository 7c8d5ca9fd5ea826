/**
 * The specification's own full example, pasted as written (hack/specification-example.ts says
 * what is pasted and the two edits a cluster needs), applied with kubectl both ways and run.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { repoRoot } from '../../hack/local-cluster/paths.js';
import { kubectl } from '../../hack/local-cluster/tools.js';
import { SPECIFICATION_FILE, specificationExample } from '../../hack/specification-example.js';
import { RunbookEnv } from '../support/runbook-env.js';
import type { AgentCatalog } from '../../src/api/catalog.js';
import { succeed } from '../support/scripted-agents.js';
import { eventually } from '../support/eventually.js';

/** The specification's agents, at the versions its stages ask for. */
const CATALOG: AgentCatalog = {
  agents: ['normalize', 'research', 'librarian', 'market_analyst', 'security', 'performance'].map((name) => ({
    name,
    image: `registry.example/agents/${name.replace('_', '-')}:1`,
    versions: '>=1.0.0 <2.0.0',
  })),
};

/** A value of each declared output type, as an agent would report it. */
const SAMPLE: Record<string, unknown> = {
  object: { summary: 'ok' },
  array: ['one'],
  string: 'text',
  number: 1.5,
  integer: 1,
  boolean: true,
};

describe('the specification’s full example, applied as written', function () {
  this.timeout(300_000);
  const env = new RunbookEnv('spec', CATALOG, { webhook: true });
  const markdown = readFileSync(join(repoRoot, SPECIFICATION_FILE), 'utf8');
  const example = specificationExample(markdown);
  const name = (parse(example) as { metadata: { name: string } }).metadata.name;

  before(async () => {
    await env.start();
    env.script = (call) =>
      succeed(Object.fromEntries(Object.entries(call.outputs).map(([key, type]) => [key, SAMPLE[type]])), {
        tokens: 1000,
        costUSD: '0.50',
      });
  });
  after(() => env.stop());

  it('is the specification the workplace gave (../shared/seed), byte for byte', function () {
    const original = join(repoRoot, '..', 'shared', 'seed', 'runbook-generation-system.md');
    if (!existsSync(original)) this.skip();
    expect(markdown).to.equal(readFileSync(original, 'utf8'));
  });

  it('server-side apply accepts it, saying what it reads its ambiguities as', async () => {
    const result = await kubectlStdin(['apply', '--server-side', '--field-manager=spec-test', '-f', '-']);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stderr)
      .to.contain(
        'spec.environments.testing.budgets: with this overlay cost.alertThreshold (8.00) lowered to cost.maxUSD (5.00)',
      )
      .and.contain(
        'step primary_research runs pipeline stage research, which depends on normalize: it runs first',
      );
  });

  it('client-side apply of the same text is accepted too, and changes nothing', async () => {
    const result = await kubectlStdin(['apply', '-f', '-']);
    expect(result.code, result.stderr).to.equal(0);
    const stored = await env.k('get', 'arb', name, '-o', 'json');
    const spec = (JSON.parse(stored.stdout) as { spec: Record<string, never> }).spec;
    // The short forms are kept as written: a GitOps tool sees no drift.
    expect(spec.environments).to.deep.nested.include({ 'development.budgets.tokens': 500000 });
    expect(spec.environments).to.deep.nested.include({ 'development.budgets.cost': 50 });
  });

  it('runs: normalize pulled in before primary_research, the required gate approved, validation after', async () => {
    await eventually(async () => {
      const status = await env.status(name);
      expect(status.gates?.find((gate) => gate.name === 'risk_review')?.phase).to.equal('Pending');
      expect(status.phase).to.equal('WaitingForApproval');
    });
    await env.approve(name, 'risk_review');
    await env.waitPhase(name, 'Succeeded', 120);
    const status = await env.status(name);
    expect(status.stages.map((stage) => [stage.name, stage.phase])).to.have.deep.members([
      ['normalize', 'Succeeded'],
      ['primary_research', 'Succeeded'],
      ['validate-security', 'Succeeded'],
      ['validate-performance', 'Succeeded'],
    ]);
    const order = env.calls.map((call) => call.stage);
    expect(order.indexOf('normalize')).to.be.lessThan(order.indexOf('primary_research'));
    const research = env.calls.find((call) => call.stage === 'primary_research');
    expect(research?.inputs).to.deep.equal({ normalized_idea: { summary: 'ok' } });
    const listed = await env.k('get', 'arb', name);
    expect(listed.stdout).to.match(new RegExp(`${name}\\s+Succeeded`));
  });

  it('in its testing environment the short forms and the lowered alert threshold are what the run enforces', async () => {
    const testing = example
      .replace(`name: "${name}"`, 'name: "idea-123-testing"')
      .replace('  version: "1.0.0"', '  version: "1.0.0"\n  environment: testing');
    const result = await kubectlStdin(['apply', '-f', '-'], testing);
    expect(result.code, result.stderr).to.equal(0);
    await eventually(async () =>
      expect((await env.status('idea-123-testing')).phase).to.equal('WaitingForApproval'),
    );
    await env.approve('idea-123-testing', 'risk_review');
    await env.waitPhase('idea-123-testing', 'Succeeded', 120);
    // The first stage was granted the overlay's whole: cost 5.00 (short for maxUSD) and, of the
    // short-form tokens 50000, the inherited perAgent 25000.
    const normalize = (await env.status('idea-123-testing')).stages.find(
      (stage) => stage.name === 'normalize',
    );
    expect(normalize?.grant).to.deep.equal({ tokens: 25_000, costUSD: '5.00' });
    const described = await env.k('describe', 'arb', 'idea-123-testing');
    // 4 stages at $0.50 is $2.00, under the alert threshold lowered to $5.00: no alert.
    expect(described.stdout).to.not.contain('BudgetAlert');
  });

  it('kubectl explain shows the budget short form of an environment', async () => {
    const explained = await env.k('explain', 'agentrunbook.spec.environments.budgets.tokens');
    expect(explained.code, explained.stderr).to.equal(0);
    expect(explained.stdout.replace(/\s+/g, ' ')).to.contain('or a number: short for {total: <number>}');
    const cost = await env.k('explain', 'agentrunbook.spec.environments.budgets.cost');
    expect(cost.stdout.replace(/\s+/g, ' ')).to.contain('short for {maxUSD: <amount>}');
  });

  it('the short forms are still checked: a negative or malformed amount is refused, naming the field', async () => {
    const bad = example
      .replace(`name: "${name}"`, 'name: "idea-123-bad"')
      .replace('tokens: 500000', 'tokens: -5')
      .replace('cost: 50.00', 'cost: "fifty"');
    const result = await kubectlStdin(['apply', '-f', '-'], bad);
    expect(result.code).to.equal(1);
    expect(result.stderr)
      .to.contain('spec.environments.development.budgets.tokens: must be >= 0')
      .and.contain('spec.environments.development.budgets.cost: must match pattern');
  });

  const kubectlStdin = (args: string[], text = example) =>
    kubectl(env.plane.adminKubeconfigPath, ['-n', env.namespace, ...args], text);
});
