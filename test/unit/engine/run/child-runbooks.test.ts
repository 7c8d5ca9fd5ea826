import { expect } from 'chai';
import type { SpecV2 } from '../../../../src/api/v2/runbook.js';
import { EngineHarness, runbookOf, spec } from '../../../support/engine-harness.js';

type StageSketch = NonNullable<SpecV2['agents']['pipeline']>[number];

/** research -> audit (a child runbook) -> publish, which reads the child's outputs. */
function parentSpec(audit: Partial<StageSketch> = {}, budgets?: SpecV2['budgets']): SpecV2 {
  return spec({
    context: { title: 'Parent' },
    ...(budgets ? { budgets } : {}),
    stages: [
      { name: 'research', config: { outputs: { topic: 'string' } } },
      {
        name: 'audit',
        runbook: { name: 'audit-library' },
        config: { inputs: { title: '${research.outputs.topic}' }, outputs: { verdict: 'string' } },
        ...audit,
      },
      { name: 'publish', config: { inputs: { verdict: '${audit.outputs.verdict}' } } },
    ],
  });
}

const library: SpecV2 = {
  version: '2.0.0',
  context: { title: 'placeholder', riskLevel: 2 },
  budgets: { tokens: { total: 100_000, perAgent: 50_000 }, cost: { maxUSD: '20.00', perAgent: '10.00' } },
  suspend: true,
  agents: { pipeline: [{ name: 'check' }, { name: 'summarize', dependsOn: ['check'] }] },
};

function started(budgets?: SpecV2['budgets'], audit: Partial<StageSketch> = {}): EngineHarness {
  const h = new EngineHarness(runbookOf(parentSpec(audit, budgets)));
  h.runbookSpecs.set('audit-library', library);
  h.step();
  h.succeed('research', { topic: 'Audit me' });
  h.step();
  return h;
}

describe('runbooks as stages: a child AgentRunbook per attempt', () => {
  it('creates the child with the inputs as its context and budgets capped at the grant, then takes its outputs', () => {
    const h = started({
      tokens: { total: 10_000, perAgent: 4_000 },
      cost: { maxUSD: '3.00', perAgent: '1.00' },
    });
    const audit = h.stage('audit');
    expect(audit).to.include({ phase: 'Running', attempt: 1, reason: 'Started' });
    expect(audit.child).to.match(/^rb-audit-[0-9a-f]+$/);
    const plan = h.childPlans.get(audit.child ?? '');
    expect(plan?.spec.context).to.deep.equal({ title: 'Audit me', riskLevel: 2 });
    expect(plan?.spec.suspend, 'the child runs whatever state its source is in').to.equal(undefined);
    expect(plan?.spec.budgets).to.deep.equal({
      tokens: { total: 4_000, perAgent: 4_000 },
      cost: { maxUSD: '1.00', perAgent: '1.00' },
    });
    expect(plan?.spec.agents).to.deep.equal(library.agents);
    h.endChild('audit', 'Succeeded', [
      { name: 'check', phase: 'Succeeded', outputs: { verdict: 'draft', notes: 'n' } },
      { name: 'summarize', phase: 'Succeeded', outputs: { verdict: 'fine' } },
    ]);
    h.step();
    expect(h.stage('audit')).to.include({
      phase: 'Succeeded',
      message: `child runbook ${audit.child} succeeded`,
    });
    expect(h.stage('audit').outputs).to.deep.equal({ verdict: 'fine', notes: 'n' });
    expect(h.stage('audit').usage).to.deep.equal({ tokens: 50, costUSD: '0.05' });
    const publish = h.plans.get(h.activeFor('publish').name);
    expect(JSON.parse(publish?.files.inputs ?? '{}')).to.deep.equal({ verdict: 'fine' });
  });

  it('a child from a template is a runbook made from that template, its budgets (what is left) capping the template’s', () => {
    const h = started({ tokens: { total: 5_000 } }, { runbook: { template: { name: 'security-first' } } });
    const plan = h.childPlans.get(h.stage('audit').child ?? '');
    expect(plan?.spec).to.deep.equal({
      version: '1.0.0',
      template: { name: 'security-first' },
      agents: {},
      context: { title: 'Audit me' },
      budgets: { tokens: { total: 4_990 } },
    });
  });

  it('a child that fails is retried as a new child under the retry policy, then fails the stage with its reason', () => {
    const h = started(undefined, {
      config: { retries: 1, inputs: { title: 'x' }, outputs: { verdict: 'string' } },
    });
    const first = h.stage('audit').child;
    h.endChild('audit', 'TimedOut', [], { tokens: 10, costUSD: '0.01' }, 'the run took 1h');
    h.step();
    const second = h.stage('audit').child;
    expect(h.stage('audit')).to.include({ phase: 'Running', attempt: 2 });
    expect(second).to.not.equal(first);
    h.endChild('audit', 'Failed', [], { tokens: 10, costUSD: '0.01' }, 'stage check failed');
    h.step();
    expect(h.stage('audit')).to.include({
      phase: 'Failed',
      reason: 'ChildRunbookFailed',
      lastError: 'UNKNOWN',
    });
    expect(h.stage('audit').message).to.equal(
      `child runbook ${second ?? ''} ended Failed: stage check failed`,
    );
    expect(h.stage('audit').usage).to.deep.equal({ tokens: 20, costUSD: '0.02' });
    expect(h.phase).to.equal('Failed');
  });

  it('a child that lacks a declared output fails the stage', () => {
    const h = started();
    h.endChild('audit', 'Succeeded', [{ name: 'check', phase: 'Succeeded', outputs: {} }]);
    h.step();
    expect(h.stage('audit')).to.include({ phase: 'Failed', reason: 'OutputMissing' });
    expect(h.stage('audit').message).to.equal(
      'the child runbook did not report the declared output verdict (string)',
    );
  });

  it('cancelling the parent cancels the running child', () => {
    const h = started();
    const child = h.stage('audit').child ?? '';
    h.runbook = {
      ...h.runbook,
      spec: { ...h.runbook.spec, status: 'Cancelled' },
      metadata: { ...h.runbook.metadata, generation: 2 },
    };
    const decision = h.step();
    expect(decision.cancelChildren).to.deep.equal([child]);
    expect(h.phase).to.equal('Cancelled');
  });

  it('a new generation cancels the children of the run it replaced', () => {
    const h = started();
    const child = h.stage('audit').child ?? '';
    h.runbook = { ...h.runbook, metadata: { ...h.runbook.metadata, generation: 2 } };
    const decision = h.step();
    expect(decision.cancelChildren).to.deep.equal([child]);
  });

  it('refuses to nest deeper than 4 runbooks, and fails a stage whose named runbook is gone', () => {
    const deep = new EngineHarness(runbookOf(parentSpec()));
    deep.depth = 4;
    deep.runbookSpecs.set('audit-library', library);
    deep.step();
    deep.succeed('research', { topic: 't' });
    deep.step();
    expect(deep.stage('audit')).to.include({ phase: 'Failed', reason: 'RunbookDepthExceeded' });
    const gone = new EngineHarness(runbookOf(parentSpec()));
    gone.step();
    gone.succeed('research', { topic: 't' });
    gone.step();
    expect(gone.stage('audit')).to.include({ phase: 'Failed', reason: 'ChildRunbookNotFound' });
    expect(gone.stage('audit').message).to.equal(
      'runbook.name audit-library: no AgentRunbook audit-library in namespace ns',
    );
  });

  it('an input that is no context field fails the stage before any child exists', () => {
    // Without the input that read research's outputs, audit waits for research by dependsOn.
    const h = started(undefined, { config: { inputs: { bogus: 'x' } }, dependsOn: ['research'] });
    expect(h.stage('audit')).to.include({ phase: 'Failed', reason: 'ChildRunbookInvalid' });
    expect(h.stage('audit').message).to.match(/^the child runbook would be invalid: spec\.context/);
    expect(h.children).to.deep.equal([]);
  });

  it('creates no child for a stage started and stopped in one reconcile', () => {
    const h = new EngineHarness(
      runbookOf(
        spec({
          stages: [
            { name: 'audit', runbook: { name: 'audit-library' } },
            { name: 'lookup', runbook: { name: 'gone' } },
          ],
        }),
      ),
    );
    h.runbookSpecs.set('audit-library', library);
    const decision = h.step();
    expect(h.stage('lookup')).to.include({ phase: 'Failed', reason: 'ChildRunbookNotFound' });
    expect(h.stage('audit')).to.include({ phase: 'Failed', reason: 'Aborted' });
    expect(decision.children ?? [], 'a stopped stage runs nothing').to.deep.equal([]);
    expect(decision.cancelChildren ?? [], 'nothing was created to cancel').to.deep.equal([]);
  });

  it('cancels the child the last reconcile created though the cache has not seen it yet', () => {
    const h = started();
    const child = h.stage('audit').child ?? '';
    h.children = [];
    h.runbook = {
      ...h.runbook,
      spec: { ...h.runbook.spec, status: 'Cancelled' },
      metadata: { ...h.runbook.metadata, generation: h.runbook.metadata.generation + 1 },
    };
    const decision = h.step();
    expect(decision.cancelChildren).to.deep.equal([child]);
    expect(decision.children ?? []).to.deep.equal([]);
  });

  it('a restart before the child is seen creates the same child again, never a second', () => {
    const h = started();
    const name = h.stage('audit').child;
    h.children = [];
    const decision = h.step();
    expect(decision.children?.map((plan) => plan.name)).to.deep.equal([name]);
  });

  it("keeps a child's outputs as a stage's are kept: what the status cannot hold goes to a ConfigMap of the run", () => {
    const h = started();
    const big = 'x'.repeat(3000);
    h.endChild('audit', 'Succeeded', [
      { name: 'check', phase: 'Succeeded', outputs: { verdict: 'ok', notes: big } },
      {
        name: 'summarize',
        phase: 'Succeeded',
        outputRefs: { report: { configMap: 'child-cm', key: 'report', bytes: 9000, preview: 'r' } },
      },
    ]);
    const decision = h.step();
    const audit = h.stage('audit');
    expect(audit.outputs).to.deep.equal({ verdict: 'ok' });
    expect(audit.outputRefs?.report?.configMap, "the child's own stays where it is").to.equal('child-cm');
    expect(audit.outputRefs?.notes?.bytes).to.equal(3002);
    expect(decision.store?.map((store) => Object.keys(store.data))).to.deep.equal([['notes']]);
  });
});
