import { expect } from 'chai';
import { ENV } from '../../../../src/api/agent-contract.js';
import { ANNOTATION_RERUN, ANNOTATION_RETRY } from '../../../../src/api/labels.js';
import type { SpecV2 } from '../../../../src/api/v2/runbook.js';
import { claimName, retryExecutionId } from '../../../../src/engine/model/naming.js';
import { EngineHarness, runbookOf, spec } from '../../../support/engine-harness.js';

const NOT_RETRYABLE = { error: { class: 'INVALID_INPUT', message: 'the brief is empty' } };

/** research -> write -> review, each stage's outputs passed on; optionally sharing a workspace. */
function pipeline(extra: Partial<SpecV2> = {}, workspace = false): EngineHarness {
  const ws = workspace ? { workspaces: [{ name: 'notes' }] } : {};
  return new EngineHarness(
    runbookOf(
      spec({
        ...(workspace
          ? {
              workspaces: [
                {
                  name: 'notes',
                  volumeClaimTemplate: { spec: { resources: { requests: { storage: '1Gi' } } } },
                },
              ],
            }
          : {}),
        stages: [
          { name: 'research', ...ws, config: { outputs: { report: 'string' } } },
          {
            name: 'write',
            dependsOn: ['research'],
            ...ws,
            config: { inputs: { report: '${research.outputs.report}' } },
          },
          { name: 'review', dependsOn: ['write'] },
        ],
        ...extra,
      }),
    ),
  );
}

function annotate(h: EngineHarness, annotations: Record<string, string>): void {
  h.runbook = {
    ...h.runbook,
    metadata: { ...h.runbook.metadata, annotations: { ...h.runbook.metadata.annotations, ...annotations } },
  };
}

/** Runs research to success and write to a failure that is not retried: the run fails. */
function failAtWrite(h: EngineHarness, report: string = 'found it'): void {
  h.step();
  h.succeed('research', { report }, { tokens: 100, costUSD: '0.10' });
  h.step();
  h.fail('write', NOT_RETRYABLE);
  h.step();
  expect(h.phase).to.equal('Failed');
}

const started = (h: EngineHarness) => (h.last?.create ?? []).map((plan) => plan.stage);

describe('engine: retry of a failed run', () => {
  it('keeps the succeeded stages with their outputs and usage, and runs the failed stage and those after it', () => {
    const h = pipeline();
    failAtWrite(h);
    const research = h.stage('research');
    annotate(h, { [ANNOTATION_RETRY]: 'g1' });
    const decision = h.step();
    const execution = retryExecutionId('g1', 'g1');
    expect(h.runbook.status?.execution).to.equal(execution);
    expect(started(h)).to.deep.equal(['write']);
    expect(decision.create[0]?.execution).to.equal(execution);
    expect(JSON.parse(decision.create[0]?.env[ENV.inputs] ?? '{}')).to.deep.equal({ report: 'found it' });
    expect(h.stage('research')).to.deep.equal(research);
    expect(h.stage('review').phase).to.equal('Pending');
    expect(decision.events.map((event) => event.message)).to.include(
      `started run ${execution} of generation 1, retrying run g1: kept stage research`,
    );
    h.succeed('write');
    h.step();
    h.succeed('review');
    h.step();
    expect(h.phase).to.equal('Succeeded');
    expect(h.runbook.status?.usage?.tokens).to.equal(120);
  });

  it('does nothing for a retry that names another run, or a run that has not ended', () => {
    const h = pipeline();
    h.step();
    annotate(h, { [ANNOTATION_RETRY]: 'g7' });
    expect(h.step().create).to.deep.equal([]);
    expect(h.runbook.status?.execution).to.equal('g1');
    h.succeed('research', { report: 'x' });
    h.step();
    h.fail('write', NOT_RETRYABLE);
    h.step();
    expect(h.phase).to.equal('Failed');
    expect(h.step().create).to.deep.equal([]);
    expect(h.runbook.status?.execution).to.equal('g1');
  });

  it('retries a retry, keeping what either run finished, and a rerun starts from the beginning', () => {
    const h = pipeline();
    failAtWrite(h);
    annotate(h, { [ANNOTATION_RETRY]: 'g1' });
    h.step();
    h.succeed('write');
    h.step();
    h.fail('review', NOT_RETRYABLE);
    h.step();
    expect(h.phase).to.equal('Failed');
    const first = retryExecutionId('g1', 'g1');
    annotate(h, { [ANNOTATION_RETRY]: first });
    h.step();
    expect(h.runbook.status?.execution).to.equal(retryExecutionId('g1', first));
    expect(started(h)).to.deep.equal(['review']);
    expect(h.stage('write').phase).to.equal('Succeeded');
    h.fail('review', NOT_RETRYABLE);
    h.step();
    annotate(h, { [ANNOTATION_RERUN]: 'from scratch' });
    h.step();
    expect(started(h)).to.deep.equal(['research']);
    expect(h.stage('write').phase).to.equal('Pending');
  });

  it('keeps the ConfigMaps of the outputs it keeps when it replaces the failed run', () => {
    const h = pipeline();
    failAtWrite(h, 'r'.repeat(200 * 1024));
    const ref = h.stage('research').outputRefs?.report;
    expect(ref).to.not.equal(undefined);
    annotate(h, { [ANNOTATION_RETRY]: 'g1' });
    const decision = h.step();
    expect(decision.pruneStoredOutputs).to.deep.equal({
      keepExecution: retryExecutionId('g1', 'g1'),
      keep: [ref?.configMap],
    });
    expect(h.stage('research').outputRefs?.report).to.deep.equal(ref);
    expect(decision.create[0]?.mounts.map((file) => file.configMap)).to.deep.equal([ref?.configMap]);
  });

  it('mounts the workspace claim of the run it retries, where the kept stages left their files', () => {
    const h = pipeline({}, true);
    failAtWrite(h);
    annotate(h, { [ANNOTATION_RETRY]: 'g1' });
    const decision = h.step();
    const claim = claimName('rb', 'notes', 'g1', 'uid-1');
    expect(decision.create[0]?.workspaces?.[0]?.claim?.name).to.equal(claim);
    expect(h.runbook.status?.workspaces).to.deep.include({ name: 'notes', claim });
  });

  it('waits in the queue with its kept stages when over a concurrency limit', () => {
    const h = pipeline();
    failAtWrite(h);
    annotate(h, { [ANNOTATION_RETRY]: 'g1' });
    h.slot = { granted: false, place: 1, message: 'waiting for a slot (2 of 2 running)' };
    h.step();
    expect(h.phase).to.equal('Queued');
    expect(h.stage('research').phase).to.equal('Succeeded');
    h.slot = { granted: true };
    h.step();
    expect(started(h)).to.deep.equal(['write']);
    expect(h.stage('research').outputs).to.deep.equal({ report: 'found it' });
  });
});
