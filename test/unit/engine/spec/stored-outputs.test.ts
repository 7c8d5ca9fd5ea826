import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { ENV } from '../../../../src/api/agent-contract.js';
import { awaitsOutcome } from '../../../../src/engine/run/decide.js';
import { EngineHarness, runbookOf, spec } from '../../../support/engine-harness.js';

const big = (char: string, bytes: number) => char.repeat(bytes - 2);

function pipeline(inputs: Record<string, unknown>) {
  return new EngineHarness(
    runbookOf(
      spec({
        stages: [
          { name: 'research', config: { outputs: { report: 'string', score: 'number' } } },
          { name: 'write', dependsOn: ['research'], config: { inputs } },
        ],
      }),
    ),
  );
}

describe('outputs too large for the status', () => {
  it('keeps a large output in a ConfigMap the decision carries, and its reference, size and preview in the status', () => {
    const h = pipeline({ report: '${research.outputs.report}', score: '${research.outputs.score}' });
    h.step();
    const job = h.activeFor('research').name;
    h.succeed('research', { report: big('r', 200 * 1024), score: 0.9 });
    const decision = h.step();
    expect(decision.store).to.deep.equal([
      {
        name: `${job}-outputs`,
        stage: 'research',
        execution: h.runbook.status?.execution,
        data: { report: JSON.stringify(big('r', 200 * 1024)) },
      },
    ]);
    const stage = h.stage('research');
    expect(stage.outputs).to.deep.equal({ score: 0.9 });
    expect(stage.outputRefs).to.deep.equal({
      report: {
        configMap: `${job}-outputs`,
        key: 'report',
        bytes: 200 * 1024,
        preview: 'r'.repeat(200),
        digest: `sha256:${createHash('sha256')
          .update(JSON.stringify(big('r', 200 * 1024)))
          .digest('hex')}`,
      },
    });

    const plan = decision.create[0];
    expect(plan?.stage).to.equal('write');
    expect(JSON.parse(plan?.files.inputs ?? '')).to.deep.equal({
      report: { $file: 'outputs/research/report' },
      score: 0.9,
    });
    expect(plan?.mounts).to.deep.equal([
      {
        configMap: `${job}-outputs`,
        key: 'report',
        path: 'outputs/research/report',
        digest: stage.outputRefs?.report?.digest,
      },
    ]);
    expect(JSON.parse(plan?.env[ENV.inputs] ?? '')).to.deep.equal(JSON.parse(plan?.files.inputs ?? ''));
  });

  it('keeps the small outputs inline until they fill 8 KiB together, smallest first', () => {
    const h = pipeline({});
    h.step();
    const outputs = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`o${i}`, big('x', 1000)]));
    h.succeed('research', { ...outputs, report: 'short', score: 1 });
    h.step();
    const stage = h.stage('research');
    expect(Object.keys(stage.outputs ?? {}).sort()).to.deep.equal([
      'o0',
      'o1',
      'o2',
      'o3',
      'o4',
      'o5',
      'o6',
      'o7',
      'report',
      'score',
    ]);
    expect(Object.keys(stage.outputRefs ?? {}).sort()).to.deep.equal(['o10', 'o11', 'o8', 'o9']);
  });

  it('previews only the first 16 stored outputs, so a thousand of them cannot fill the status', () => {
    const h = pipeline({});
    h.step();
    const outputs = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`o${i}`, big('x', 2000)]));
    h.succeed('research', { ...outputs, report: big('r', 2000), score: 1 });
    h.step();
    const previews = Object.values(h.stage('research').outputRefs ?? {}).map((ref) => ref.preview);
    expect(previews).to.have.length(501);
    expect(previews.filter(Boolean)).to.have.length(16);
  });

  it('passes a stored output only whole: a part of it, a transform or a place in a longer string fail the stage, saying so', () => {
    for (const input of [
      '${research.outputs.report.title}',
      '${research.outputs.report|truncate:10}',
      'see ${research.outputs.report}',
      'all of ${research.outputs}',
    ]) {
      const h = pipeline({ text: input });
      h.step();
      h.succeed('research', { report: big('r', 4096), score: 1 });
      h.step();
      expect(h.stage('write'), input).to.deep.include({ phase: 'Failed', reason: 'UnresolvedReference' });
      expect(h.stage('write').message, input).to.match(
        /^input text: .*research\.outputs\.report is 4096 bytes, kept in ConfigMap \S+-outputs outside the status: only a whole reference \(\$\{research\.outputs\.report\}\) passes it on, as a file$/,
      );
    }
  });

  it('passes all of a stage’s outputs whole, the stored ones as files', () => {
    const h = pipeline({ all: '${research.outputs}' });
    h.step();
    h.succeed('research', { report: big('r', 4096), score: 1 });
    const plan = h.step().create[0];
    expect(JSON.parse(plan?.files.inputs ?? '')).to.deep.equal({
      all: { report: { $file: 'outputs/research/report' }, score: 1 },
    });
    expect(plan?.mounts.map((file) => file.path)).to.deep.equal(['outputs/research/report']);
  });

  it('names the ConfigMap key and file after a hash when the output’s name cannot be a key', () => {
    const h = pipeline({ all: '${research.outputs}' });
    h.step();
    h.succeed('research', { '../../etc/passwd': big('p', 2048), report: 'r', score: 1 });
    const plan = h.step().create[0];
    const ref = h.stage('research').outputRefs?.['../../etc/passwd'];
    expect(ref?.key).to.match(/^output-[0-9a-f]{16}$/);
    expect(plan?.mounts[0]?.path).to.equal(`outputs/research/${ref?.key ?? ''}`);
  });

  it('fails a stage whose outputs are over --max-output-bytes with OutputsTooLarge, keeping its usage', () => {
    const h = pipeline({});
    h.maxOutputBytes = 64 * 1024;
    h.step();
    h.succeed('research', { report: big('r', 64 * 1024), score: 1 }, { tokens: 77, costUSD: '0.5' });
    const decision = h.step();
    expect(decision.store).to.equal(undefined);
    expect(h.stage('research')).to.deep.include({
      phase: 'Failed',
      reason: 'OutputsTooLarge',
      message: "the stage's outputs are 65537 bytes as JSON, over the limit of 65536 bytes",
      usage: { tokens: 77, costUSD: '0.50' },
    });
  });

  it('fails a stage whose inputs, parameters and budget would not fit the Pod’s annotations', () => {
    const h = new EngineHarness(
      runbookOf(
        spec({
          context: { title: 'x'.repeat(200 * 1024) },
          stages: [{ name: 'one', config: { inputs: { a: '${context.title}' } } }],
        }),
      ),
    );
    h.step();
    expect(h.stage('one')).to.deep.include({ phase: 'Failed', reason: 'InputsTooLarge' });
    expect(h.stage('one').message).to.match(
      /^the stage's inputs, parameters and budget are \d+ bytes as JSON, over the limit of 196608 bytes/,
    );
  });

  it('hands small files through the environment too, and large ones only as files', () => {
    const h = new EngineHarness(
      runbookOf(
        spec({
          context: { title: 'x'.repeat(8 * 1024) },
          stages: [{ name: 'one', config: { inputs: { a: '${context.title}' } } }],
        }),
      ),
    );
    const plan = h.step().create[0];
    expect(plan?.env[ENV.inputs]).to.equal(undefined);
    expect(JSON.parse(plan?.files.inputs ?? '')).to.deep.equal({ a: 'x'.repeat(8 * 1024) });
    expect(JSON.parse(plan?.env[ENV.parameters] ?? '')).to.deep.equal({});
  });

  it('deletes the stored outputs of the run before when a new run starts, and only then', () => {
    const h = pipeline({});
    expect(h.step().pruneStoredOutputs).to.equal(undefined);
    h.succeed('research', { report: big('r', 4096), score: 1 });
    expect(h.step().pruneStoredOutputs).to.equal(undefined);
    h.runbook = {
      ...h.runbook,
      metadata: { ...h.runbook.metadata, annotations: { 'i2s.studio/rerun': 'again' } },
    };
    const rerun = h.step();
    expect(rerun.pruneStoredOutputs).to.deep.equal({ keepExecution: h.runbook.status?.execution, keep: [] });
    expect(h.runbook.status?.execution).to.not.equal('g1');
  });
});

describe('which reports the controller reads from agents’ logs', () => {
  it('only those of the current run that the engine would still fold into their stage', () => {
    const h = pipeline({});
    h.step();
    const research = h.activeFor('research');
    expect(awaitsOutcome(h.runbook, research)).to.equal(true);
    h.succeed('research', { report: big('r', 4096), score: 1 });
    expect(awaitsOutcome(h.runbook, research), 'finished, not yet in the status').to.equal(true);
    h.step();
    expect(awaitsOutcome(h.runbook, research), 'its outcome is in the status').to.equal(false);
    const nextRun = { ...h.runbook, metadata: { ...h.runbook.metadata, generation: 2 } };
    expect(awaitsOutcome(nextRun, research), 'a past run').to.equal(false);
  });

  it('not a failed attempt once its stage has moved on to the next', () => {
    const h = new EngineHarness(
      runbookOf(
        spec({ stages: [{ name: 'research', config: { retries: 2, outputs: { report: 'string' } } }] }),
      ),
    );
    h.step();
    const first = h.activeFor('research');
    h.fail('research', { error: { class: 'API_ERROR' } });
    const lagging = h.runbook;
    h.step();
    const second = h.activeFor('research');
    expect(second.attempt).to.equal(2);
    expect(awaitsOutcome(h.runbook, first), 'attempt 1, folded').to.equal(false);
    expect(awaitsOutcome(h.runbook, second), 'attempt 2, running').to.equal(true);
    expect(awaitsOutcome(lagging, second), 'attempt 2, newer than the status').to.equal(true);
  });
});
