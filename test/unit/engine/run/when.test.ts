import { expect } from 'chai';
import { EngineHarness, runbookOf, spec } from '../../../support/engine-harness.js';
import type { SpecV2 } from '../../../../src/api/v2/runbook.js';

/** research -> review (when risk is high) -> publish, which reads review's verdict. */
function reviewSpec(review: Partial<NonNullable<SpecV2['agents']['pipeline']>[number]> = {}): SpecV2 {
  return spec({
    context: { title: 'T', riskLevel: 3 },
    stages: [
      { name: 'research', config: { outputs: { risk: 'number' } } },
      {
        name: 'review',
        when: 'outputs.research.risk > 5 || riskLevel > 7',
        config: { outputs: { verdict: 'string' } },
        ...review,
      },
      {
        name: 'publish',
        dependsOn: ['review'],
        config: { inputs: { verdict: '${review.outputs.verdict}' } },
      },
    ],
  });
}

describe('when: stages that run only if their condition holds', () => {
  it('a false condition skips the stage with its text as the reason; a dependent reading a declared default runs with it', () => {
    const h = new EngineHarness(runbookOf(reviewSpec({ skippedOutputs: { verdict: 'not reviewed' } })));
    h.step();
    expect(h.active().map((job) => job.stage)).to.deep.equal(['research']);
    h.succeed('research', { risk: 2 });
    const decision = h.step();
    expect(h.stage('review')).to.include({ phase: 'Skipped', reason: 'ConditionNotMet' });
    expect(h.stage('review').message).to.equal('when outputs.research.risk > 5 || riskLevel > 7 is false');
    expect(decision.events.map((event) => event.message)).to.include(
      'stage review skipped: when outputs.research.risk > 5 || riskLevel > 7 is false',
    );
    const publish = h.activeFor('publish');
    expect(JSON.parse(h.plans.get(publish.name)?.files.inputs ?? '{}')).to.deep.equal({
      verdict: 'not reviewed',
    });
    expect(h.runbook.status?.progress).to.equal('2/3');
    h.succeed('publish');
    h.step();
    expect(h.phase).to.equal('Succeeded');
    expect(h.condition('Ready')).to.include({ reason: 'Succeeded' });
    expect(h.condition('Ready')?.message).to.equal(
      'all 2 stages that ran succeeded; 1 skipped by their when conditions',
    );
  });

  it('without a default, a dependent that reads the skipped output is skipped too, naming what it lacked; one that does not read it runs', () => {
    const base = reviewSpec();
    base.agents.pipeline?.push({ name: 'archive', dependsOn: ['review'] });
    const h = new EngineHarness(runbookOf(base));
    h.step();
    h.succeed('research', { risk: 1 });
    h.step();
    expect(h.stage('publish')).to.include({ phase: 'Skipped', reason: 'DependencySkipped' });
    expect(h.stage('publish').message).to.match(/reads review\.outputs\.verdict, which has no value/);
    expect(h.stage('publish').message).to.match(/skippedOutputs\.verdict/);
    h.succeed('archive');
    h.step();
    expect(h.phase).to.equal('Succeeded');
    expect(h.condition('Ready')?.reason).to.equal('Succeeded');
  });

  it('a true condition runs the stage, and the condition reads the dependency it names even without dependsOn', () => {
    const h = new EngineHarness(runbookOf(reviewSpec()));
    h.step();
    expect(
      h.active().map((job) => job.stage),
      'review waits for research',
    ).to.deep.equal(['research']);
    h.succeed('research', { risk: 9 });
    h.step();
    expect(h.stage('review').phase).to.equal('Running');
    h.succeed('review', { verdict: 'fine' });
    h.step();
    h.succeed('publish');
    h.step();
    expect(h.phase).to.equal('Succeeded');
  });

  it('the context decides as in a gate condition, bare or under context', () => {
    const s = reviewSpec({ when: 'context.riskLevel >= 3 && riskLevel < 4' });
    const h = new EngineHarness(runbookOf(s));
    h.step();
    expect(
      h
        .active()
        .map((job) => job.stage)
        .sort(),
    ).to.deep.equal(['research', 'review']);
  });

  it('a condition that fails to evaluate fails the stage (ConditionFailed) rather than guessing', () => {
    const h = new EngineHarness(runbookOf(reviewSpec({ when: 'outputs.research.missing > 1' })));
    h.step();
    h.succeed('research', { risk: 9 });
    h.step();
    expect(h.stage('review')).to.include({ phase: 'Failed', reason: 'ConditionFailed' });
    expect(h.stage('review').message).to.match(/could not be evaluated/);
    expect(h.phase).to.equal('Failed');
  });

  it('a condition that is not a boolean fails the stage and says what it gave', () => {
    const h = new EngineHarness(runbookOf(reviewSpec({ when: 'outputs.research.risk' })));
    h.step();
    h.succeed('research', { risk: 9 });
    h.step();
    expect(h.stage('review').message).to.equal('when outputs.research.risk gave 9, not a boolean');
  });

  it('a condition over a list the run produced is cost-checked against that list before it runs', () => {
    const h = new EngineHarness(
      runbookOf(
        reviewSpec({
          when: 'outputs.research.items.all(a, outputs.research.items.all(b, outputs.research.items.all(c, a + b + c != "x")))',
        }),
      ),
    );
    h.step();
    h.succeed('research', { risk: 1, items: Array.from({ length: 150 }, (_, i) => String(i % 10)) });
    h.step();
    expect(h.stage('review')).to.include({ phase: 'Failed', reason: 'ConditionFailed' });
    expect(h.stage('review').message).to.match(/estimated cost of \d+, over the limit/);
  });

  it('a gate before a skipped stage does not wait for approval', () => {
    const s = reviewSpec({ skippedOutputs: { verdict: 'n/a' } });
    s.quality = { gates: [{ name: 'sign-off', required: true, before: 'review' }] };
    const h = new EngineHarness(runbookOf(s));
    h.step();
    h.succeed('research', { risk: 1 });
    const decision = h.step();
    expect(decision.events.map((event) => event.reason)).not.to.include('ApprovalPending');
    expect(h.runbook.status?.gates?.[0]).to.include({ phase: 'NotApplicable' });
    expect(h.stage('publish').phase).to.equal('Running');
  });

  it('a step of the main workflow that runs a stage with when is skipped as the stage would be', () => {
    const s = reviewSpec({ skippedOutputs: { verdict: 'n/a' } });
    s.workflows = {
      main: { steps: [{ name: 'research' }, { name: 'check', agent: 'review' }, { name: 'publish' }] },
    };
    const h = new EngineHarness(runbookOf(s));
    h.step();
    h.succeed('research', { risk: 0 });
    h.step();
    expect(h.stage('check')).to.include({ phase: 'Skipped', reason: 'ConditionNotMet' });
    expect(JSON.parse(h.plans.get(h.activeFor('publish').name)?.files.inputs ?? '{}')).to.deep.equal({
      verdict: 'n/a',
    });
  });
});
