import { expect } from 'chai';
import { agentStatus, USED_BY_SHOWN } from '../../../../src/engine/stage/agent-status.js';

const NOW = new Date('2026-12-05T10:00:00Z');

describe('the status of an Agent', () => {
  it('accepts a sound agent, lists the runbooks that use it (bounded) and its breaker', () => {
    const usedBy = Array.from({ length: 40 }, (_, index) => `team/rb-${String(index).padStart(2, '0')}`);
    const status = agentStatus({
      spec: { image: 'a:1' },
      generation: 3,
      status: undefined,
      usedBy: [...usedBy].reverse(),
      breaker: { state: 'open', until: Date.parse('2026-12-05T10:01:00Z'), failures: 5 },
      now: NOW,
    });
    expect(status.observedGeneration).to.equal(3);
    expect(status.conditions?.[0]).to.deep.include({ type: 'Accepted', status: 'True', reason: 'Valid' });
    expect(status.usedBy).to.deep.equal(usedBy.slice(0, USED_BY_SHOWN));
    expect(status.usedByCount).to.equal(40);
    expect(status.circuitBreaker).to.deep.equal({ state: 'open', openUntil: '2026-12-05T10:01:00Z' });
  });

  it('says why an agent admitted unchecked cannot run, and keeps the transition time while nothing changes', () => {
    const observe = (status: ReturnType<typeof agentStatus> | undefined, now: Date) =>
      agentStatus({
        spec: {
          image: 'a:1',
          versions: 'not a range',
          podTemplate: { volumes: [{ name: 'scratch-tmp', emptyDir: {} }] },
        },
        generation: 1,
        status,
        usedBy: [],
        breaker: { state: 'closed' },
        now,
      });
    const first = observe(undefined, NOW);
    expect(first.conditions?.[0]).to.deep.include({ status: 'False', reason: 'InvalidSpec' });
    expect(first.conditions?.[0]?.message).to.contain('spec.versions').and.contain('scratch-tmp');
    const later = observe(first, new Date(NOW.getTime() + 60_000));
    expect(later).to.deep.equal(first);
  });
});
