import { expect } from 'chai';
import { EngineHarness, runbookOf, spec } from '../../../support/engine-harness.js';
import { ANNOTATION_RERUN } from '../../../../src/api/labels.js';
import { POD_REPORT_GRACE_MS } from '../../../../src/engine/run/decide.js';
import { ENV } from '../../../../src/api/agent-contract.js';

const stage = (name: string, extra: Record<string, unknown> = {}) => ({ name, ...extra });

function started(h: EngineHarness): string[] {
  return (h.last?.create ?? []).map((plan) => plan.stage);
}

describe('engine: scheduling', () => {
  it('pipeline mode runs stages one after another in list order', () => {
    const h = new EngineHarness(
      runbookOf(spec({ execution: { mode: 'pipeline' }, stages: [stage('a'), stage('b'), stage('c')] })),
    );
    h.step();
    expect(started(h)).to.deep.equal(['a']);
    h.succeed('a');
    h.step();
    expect(started(h)).to.deep.equal(['b']);
    h.succeed('b');
    h.step();
    h.succeed('c');
    h.step();
    expect(h.phase).to.equal('Succeeded');
    expect(h.runbook.status?.progress).to.equal('3/3');
  });

  it('parallel mode starts every stage at once, up to the parallelism', () => {
    const h = new EngineHarness(
      runbookOf(
        spec({
          execution: { mode: 'parallel', parallelism: 2 },
          stages: [stage('a'), stage('b'), stage('c')],
        }),
      ),
    );
    h.step();
    expect(started(h)).to.deep.equal(['a', 'b']);
    h.succeed('b');
    h.step();
    expect(started(h)).to.deep.equal(['c']);
  });

  it('hybrid mode follows dependsOn: fan-out, then fan-in', () => {
    const h = new EngineHarness(
      runbookOf(
        spec({
          stages: [
            stage('root'),
            stage('left', { dependsOn: ['root'] }),
            stage('right', { dependsOn: ['root'] }),
            stage('join', { dependsOn: ['left', 'right'] }),
          ],
        }),
      ),
    );
    h.step();
    expect(started(h)).to.deep.equal(['root']);
    h.succeed('root');
    h.step();
    expect(started(h)).to.deep.equal(['left', 'right']);
    h.succeed('left');
    h.step();
    expect(started(h)).to.deep.equal([]);
    h.succeed('right');
    h.step();
    expect(started(h)).to.deep.equal(['join']);
  });

  it('orders a stage after the stages whose outputs it uses, even without dependsOn', () => {
    const h = new EngineHarness(
      runbookOf(spec({ stages: [stage('b', { config: { inputs: { x: '${a.outputs.x}' } } }), stage('a')] })),
    );
    h.step();
    expect(started(h)).to.deep.equal(['a']);
  });

  it('hands a stage the outputs of the stages it depends on, with their JSON types', () => {
    const h = new EngineHarness(
      runbookOf(
        spec({
          context: { title: 'AI Task Manager' },
          stages: [
            stage('normalize', {
              config: { inputs: { title: '${context.title|slug}' }, outputs: { idea: 'object' } },
            }),
            stage('research', {
              dependsOn: ['normalize'],
              config: {
                inputs: {
                  idea: '${normalize.outputs.idea}',
                  line: 'about ${normalize.outputs.idea.summary}',
                },
              },
            }),
          ],
        }),
      ),
    );
    h.step();
    expect(JSON.parse(h.last?.create[0]?.env[ENV.inputs] ?? '')).to.deep.equal({ title: 'ai-task-manager' });
    h.succeed('normalize', { idea: { summary: 'plans' } });
    h.step();
    expect(JSON.parse(h.last?.create[0]?.env[ENV.inputs] ?? '')).to.deep.equal({
      idea: { summary: 'plans' },
      line: 'about plans',
    });
    expect(h.stage('normalize').outputs).to.deep.equal({ idea: { summary: 'plans' } });
  });
});

describe('engine: failures', () => {
  it('failurePolicy abort (the default) fails the run, stops running stages and skips the rest', () => {
    const h = new EngineHarness(
      runbookOf(spec({ stages: [stage('a'), stage('b'), stage('c', { dependsOn: ['a'] })] })),
    );
    h.step();
    h.fail('a', { error: { class: 'API_ERROR', message: 'upstream 500' } });
    const decision = h.step();
    expect(h.phase).to.equal('Failed');
    expect(decision.delete.map((d) => d.reason)).to.deep.equal(['RunStopped']);
    expect(h.stage('a')).to.include({ phase: 'Failed', reason: 'AgentFailed', lastError: 'API_ERROR' });
    expect(h.stage('b')).to.include({ phase: 'Failed', reason: 'Aborted' });
    expect(h.stage('c')).to.include({ phase: 'Skipped' });
    expect(h.condition('Ready')).to.include({ status: 'False', reason: 'StageFailed' });
    expect(h.condition('Failed')?.message).to.contain('upstream 500');
  });

  it('failurePolicy continue skips the dependents and lets independent stages finish', () => {
    const h = new EngineHarness(
      runbookOf(
        spec({
          stages: [
            stage('a', { config: { failurePolicy: 'continue' } }),
            stage('b'),
            stage('c', { dependsOn: ['a'] }),
          ],
        }),
      ),
    );
    h.step();
    h.fail('a', { error: { class: 'API_ERROR' } });
    h.step();
    expect(h.stage('c')).to.include({ phase: 'Skipped', reason: 'DependencyFailed' });
    expect(h.phase).to.equal('Running');
    h.succeed('b');
    h.step();
    expect(h.phase).to.equal('Succeeded');
    expect(h.condition('Ready')).to.include({ status: 'True', reason: 'CompletedWithFailures' });
  });

  it('retries a failed stage with a new Job per attempt and adds up the usage of every attempt', () => {
    const h = new EngineHarness(
      runbookOf(spec({ execution: { mode: 'hybrid', retries: 2 }, stages: [stage('a')] })),
    );
    h.step();
    const first = h.activeFor('a').name;
    h.fail('a', { error: { class: 'RATE_LIMIT' }, usage: { tokens: 5, costUSD: '0.10' } });
    h.step();
    expect(h.stage('a')).to.include({ phase: 'Running', attempt: 2, lastError: 'RATE_LIMIT' });
    expect(h.activeFor('a').name).to.not.equal(first);
    h.succeed('a', {}, { tokens: 7, costUSD: '0.20' });
    h.step();
    expect(h.stage('a')).to.include({ phase: 'Succeeded', attempt: 2 });
    expect(h.stage('a').usage).to.deep.equal({ tokens: 12, costUSD: '0.30' });
    expect(h.runbook.status?.usage).to.deep.equal({ tokens: 12, costUSD: '0.30' });
  });

  it('never retries a CRITICAL_ERROR', () => {
    const h = new EngineHarness(
      runbookOf(spec({ execution: { mode: 'hybrid', retries: 3 }, stages: [stage('a')] })),
    );
    h.step();
    h.fail('a', { error: { class: 'CRITICAL_ERROR' } });
    h.step();
    expect(h.stage('a')).to.include({ phase: 'Failed', attempt: 1 });
  });

  for (const [title, message, reason] of [
    ['a missing termination message', undefined, 'TerminationMessageMissing'],
    ['a termination message that is not JSON', '{"outputs": ', 'TerminationMessageMalformed'],
    [
      'an oversized termination message',
      `{"outputs":{"x":"${'y'.repeat(5000)}"}}`.slice(0, 4096),
      'TerminationMessageTooLarge',
    ],
    ['a report that breaks the contract', '{"usage":{"tokens":-1}}', 'TerminationMessageMalformed'],
    ['an output of the wrong type', '{"outputs":{"idea":"text"}}', 'OutputTypeMismatch'],
    ['a missing declared output', '{"outputs":{}}', 'OutputMissing'],
  ] as const) {
    it(`fails a stage with ${title} (${reason}) and does not retry it`, () => {
      const h = new EngineHarness(
        runbookOf(
          spec({
            execution: { mode: 'hybrid', retries: 3 },
            stages: [stage('a', { config: { outputs: { idea: 'object' } } })],
          }),
        ),
      );
      h.step();
      h.finish('a', 'succeeded', message);
      h.step();
      expect(h.stage('a')).to.include({ phase: 'Failed', reason, attempt: 1 });
      expect(h.phase).to.equal('Failed');
    });
  }

  it('fails a stage whose input refers to nothing, naming the input, before any Job exists', () => {
    const h = new EngineHarness(
      runbookOf(spec({ stages: [stage('a', { config: { inputs: { idea: '${context.ideaText}' } } })] })),
    );
    const decision = h.step();
    expect(decision.create).to.deep.equal([]);
    expect(h.stage('a')).to.include({ phase: 'Failed', reason: 'UnresolvedReference' });
    expect(h.stage('a').message).to.contain('input idea').and.contain('context.ideaText');
  });

  it('fails a stage whose inputs break its validation block, naming the input', () => {
    const h = new EngineHarness(
      runbookOf(
        spec({
          context: { ideaText: 'too short' },
          stages: [
            stage('a', {
              config: {
                inputs: { idea_text: '${context.ideaText}' },
                validation: { required: ['idea_text'], minLength: 50 },
              },
            }),
          ],
        }),
      ),
    );
    h.step();
    expect(h.stage('a')).to.include({ phase: 'Failed', reason: 'InputValidationFailed' });
    expect(h.stage('a').message).to.contain('idea_text');
  });

  it('checks inputs and parameters against validation.schema with ajv', () => {
    const h = new EngineHarness(
      runbookOf(
        spec({
          stages: [
            stage('a', {
              config: {
                parameters: { depth: 3 },
                validation: {
                  schema: { properties: { parameters: { properties: { depth: { type: 'string' } } } } },
                },
              },
            }),
          ],
        }),
      ),
    );
    h.step();
    expect(h.stage('a')).to.include({ phase: 'Failed', reason: 'InputValidationFailed' });
    expect(h.stage('a').message).to.contain('parameters.depth must be string');
  });

  it('fails a stage whose agent the catalog does not have with AgentNotFound', () => {
    const h = new EngineHarness(runbookOf(spec({ stages: [stage('a', { version: '3.0.0' })] })), {
      agents: [{ name: 'a', versions: '^1.0.0', image: 'x' }],
    });
    h.step();
    expect(h.stage('a')).to.include({ phase: 'Failed', reason: 'AgentNotFound' });
    expect(h.stage('a').message).to.contain('^1.0.0').and.contain('3.0.0');
  });

  it('fails the run when the stages form a cycle, naming it', () => {
    const h = new EngineHarness(
      runbookOf(spec({ stages: [stage('a', { dependsOn: ['b'] }), stage('b', { dependsOn: ['a'] })] })),
    );
    h.step();
    expect(h.phase).to.equal('Failed');
    expect(h.condition('Failed')).to.include({ reason: 'InvalidDependencies' });
    expect(h.condition('Failed')?.message).to.match(/a -> b -> a|b -> a -> b/);
  });

  it('fails the run when a pipeline stage uses the outputs of a later stage (it would wait forever)', () => {
    const h = new EngineHarness(
      runbookOf(
        spec({
          execution: { mode: 'pipeline' },
          stages: [stage('a', { config: { inputs: { x: '${b.outputs.y}' } } }), stage('b')],
        }),
      ),
    );
    h.step();
    expect(h.condition('Failed')).to.include({ reason: 'InvalidDependencies' });
    expect(h.condition('Failed')?.message).to.contain('a -> b -> a');
  });

  it('treats a Job that ran past its deadline as a TIMEOUT', () => {
    const h = new EngineHarness(runbookOf(spec({ stages: [stage('a', { config: { timeout: '30s' } })] })));
    h.step();
    expect(h.last?.create[0]?.activeDeadlineSeconds).to.equal(30);
    h.fail('a', undefined, { failureReason: 'DeadlineExceeded', podTerminated: false });
    h.step();
    expect(h.stage('a')).to.include({ phase: 'Failed', reason: 'DeadlineExceeded', lastError: 'TIMEOUT' });
  });

  it('waits for the Pod report of a finished Job before judging it, then gives up after a grace period', () => {
    const h = new EngineHarness(runbookOf(spec({ stages: [stage('a')] })));
    h.step();
    h.finish('a', 'succeeded', undefined, { podTerminated: false });
    const waiting = h.step();
    expect(h.stage('a').phase).to.equal('Running');
    expect(waiting.requeueAfterMs).to.be.greaterThan(0).and.at.most(POD_REPORT_GRACE_MS);
    h.now = new Date(h.now.getTime() + POD_REPORT_GRACE_MS);
    h.step();
    expect(h.stage('a')).to.include({ phase: 'Failed', reason: 'TerminationMessageMissing' });
  });
});

describe('engine: lifecycle', () => {
  it('a restart between the status write and the Job creation creates the same Job again', () => {
    const h = new EngineHarness(runbookOf(spec({ stages: [stage('a')] })));
    const first = h.decideOnly();
    h.runbook = { ...h.runbook, status: first.status }; // the status was written, the Job was not created
    const again = h.decideOnly();
    expect(again.create.map((plan) => plan.name)).to.deep.equal(first.create.map((plan) => plan.name));
    expect(again.status.stages?.[0]?.attempt).to.equal(1);
  });

  it('adopts a Job the status does not know yet instead of creating another', () => {
    const h = new EngineHarness(runbookOf(spec({ stages: [stage('a'), stage('b')] })));
    h.step();
    const stale = { ...h.runbook, status: undefined };
    h.runbook = stale;
    const decision = h.step();
    expect(decision.create.map((plan) => plan.stage)).to.not.include('a');
    expect(h.stage('a')).to.include({ phase: 'Running', attempt: 1 });
  });

  it('a spec change starts a new execution and deletes the old one’s running Jobs (SpecChanged)', () => {
    const h = new EngineHarness(runbookOf(spec({ stages: [stage('a')] })));
    h.step();
    const old = h.activeFor('a').name;
    h.runbook = { ...h.runbook, metadata: { ...h.runbook.metadata, generation: 2 } };
    const decision = h.step();
    expect(decision.delete).to.deep.equal([{ name: old, reason: 'SpecChanged' }]);
    expect(decision.create[0]?.name).to.not.equal(old);
    expect(h.runbook.status).to.include({ observedGeneration: 2, execution: 'g2' });
  });

  it('a new rerun annotation value runs the finished runbook again', () => {
    const h = new EngineHarness(runbookOf(spec({ stages: [stage('a')] })));
    h.step();
    h.succeed('a');
    h.step();
    expect(h.phase).to.equal('Succeeded');
    expect(h.step().create).to.deep.equal([]);
    h.runbook = {
      ...h.runbook,
      metadata: { ...h.runbook.metadata, annotations: { [ANNOTATION_RERUN]: 'again' } },
    };
    const decision = h.step();
    expect(decision.create.map((plan) => plan.stage)).to.deep.equal(['a']);
    expect(h.phase).to.equal('Running');
  });

  it('spec.suspend starts nothing new until it is cleared', () => {
    const h = new EngineHarness(
      runbookOf(spec({ execution: { mode: 'pipeline' }, stages: [stage('a'), stage('b')] })),
    );
    h.step();
    h.runbook = { ...h.runbook, spec: { ...h.runbook.spec, suspend: true } };
    h.succeed('a');
    h.step();
    expect(started(h)).to.deep.equal([]);
    expect(h.condition('Suspended')).to.include({ status: 'True' });
    expect(h.condition('Progressing')).to.include({ status: 'False', reason: 'Suspended' });
    h.runbook = { ...h.runbook, spec: { ...h.runbook.spec, suspend: false } };
    h.step();
    expect(started(h)).to.deep.equal(['b']);
    expect(h.condition('Suspended')).to.equal(undefined);
  });

  it('keeps lastTransitionTime of a condition whose status did not change', () => {
    const h = new EngineHarness(
      runbookOf(spec({ execution: { mode: 'pipeline' }, stages: [stage('a'), stage('b')] })),
    );
    h.step();
    const since = h.condition('Ready')?.lastTransitionTime;
    h.succeed('a');
    h.step();
    expect(h.condition('Ready')?.lastTransitionTime).to.equal(since);
  });
});
