import { expect } from 'chai';
import { stageOutcome } from '../../../../src/engine/stage/stage-outcome.js';
import type { JobObservation } from '../../../../src/engine/model/types.js';

const job = (state: 'succeeded' | 'failed', report: unknown): JobObservation => ({
  name: 'j',
  stage: 'research',
  execution: 'g1',
  generation: 1,
  attempt: 2,
  state,
  podTerminated: true,
  terminationMessage: JSON.stringify(report),
});

describe('what a finished Job means for its stage', () => {
  it('fails the stage when the agent reports an error class, whatever its exit code', () => {
    for (const state of ['succeeded', 'failed'] as const) {
      const outcome = stageOutcome(
        job(state, {
          error: { class: 'RATE_LIMIT', message: 'slow down' },
          usage: { tokens: 7, costUSD: '0.01' },
        }),
        { name: 'research' },
        1024,
      );
      expect(outcome, state).to.deep.include({
        kind: 'failed',
        reason: 'AgentFailed',
        errorClass: 'RATE_LIMIT',
        retryable: true,
        tokens: 7,
        message: 'attempt 2 failed with RATE_LIMIT: slow down',
      });
    }
  });

  it('succeeds with the outputs of a report that carries no error', () => {
    const outcome = stageOutcome(
      job('succeeded', { outputs: { note: 'hi' } }),
      { name: 'research', config: { outputs: { note: 'string' } } },
      1024,
    );
    expect(outcome).to.deep.include({ kind: 'succeeded', outputs: { note: 'hi' } });
  });

  it('fails the stage, keeping its usage, when its outputs are over the limit, and says both sizes', () => {
    const report = { outputs: { a: 'x'.repeat(600), b: 'y'.repeat(500) }, usage: { tokens: 9 } };
    expect(stageOutcome(job('succeeded', report), { name: 'research' }, 1104)).to.include({
      kind: 'succeeded',
    });
    expect(stageOutcome(job('succeeded', report), { name: 'research' }, 1103)).to.deep.include({
      kind: 'failed',
      reason: 'OutputsTooLarge',
      errorClass: 'VALIDATION_ERROR',
      retryable: false,
      tokens: 9,
      message: "the stage's outputs are 1104 bytes as JSON, over the limit of 1103 bytes",
    });
  });
});
