import { expect } from 'chai';
import { stageOutcome } from '../../../src/engine/stage-outcome.js';
import type { JobObservation } from '../../../src/engine/types.js';

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
    const outcome = stageOutcome(job('succeeded', { outputs: { note: 'hi' } }), {
      name: 'research',
      config: { outputs: { note: 'string' } },
    });
    expect(outcome).to.deep.include({ kind: 'succeeded', outputs: { note: 'hi' } });
  });
});
