import { expect } from 'chai';
import { RunSlots } from '../../../src/controller/run-slots.js';
import type { CachedRunbook } from '../../../src/kube/types.js';

const limited = (name: string, status?: Record<string, unknown>) =>
  ({
    metadata: { name, namespace: 'ns', uid: name },
    spec: {
      version: '1.0.0',
      agents: { pipeline: [{ name: 'a' }], conductor: { config: { maxConcurrentPipelines: 1 } } },
    },
    ...(status ? { status } : {}),
  }) as unknown as CachedRunbook;

describe('run slots over the informer: grants the cache does not show yet still count', () => {
  const now = new Date('2026-01-01T00:00:00Z');

  it('does not give the last slot twice between a grant and the cache showing it', () => {
    const cache = new Map([
      ['ns/a', limited('a')],
      ['ns/b', limited('b')],
    ]);
    const slots = new RunSlots({ values: () => cache.values() } as never, () => ({}));
    const a = cache.get('ns/a') ?? limited('a');
    const b = cache.get('ns/b') ?? limited('b');
    expect(slots.ask(a, a.spec, now)).to.deep.equal({ granted: true });
    slots.hold('ns/a', 'g1');
    expect(slots.ask(b, b.spec, now)).to.deep.include({ granted: false, place: 1 });
    // The cache catches up: a's status now says it holds the slot.
    cache.set('ns/a', limited('a', { execution: 'g1', phase: 'Running', startTime: now.toISOString() }));
    expect(slots.ask(b, b.spec, now)).to.deep.include({ granted: false });
    // a ends: b may start.
    cache.set('ns/a', limited('a', { execution: 'g1', phase: 'Succeeded', startTime: now.toISOString() }));
    expect(slots.ask(b, b.spec, now)).to.deep.equal({ granted: true });
  });

  it('gives a slot back when the run it was granted for was never written', () => {
    const cache = new Map([
      ['ns/a', limited('a')],
      ['ns/b', limited('b')],
    ]);
    const slots = new RunSlots({ values: () => cache.values() } as never, () => ({}));
    const [a, b] = [limited('a'), limited('b')];
    slots.ask(a, a.spec, now);
    slots.hold('ns/a', 'g1');
    slots.release('ns/a');
    expect(slots.ask(b, b.spec, now)).to.deep.equal({ granted: true });
  });

  it('asks nothing of the others when no limit applies', () => {
    const slots = new RunSlots(
      {
        values: () => {
          throw new Error('read the cache');
        },
      } as never,
      () => ({}),
    );
    const free = { ...limited('c'), spec: { version: '1.0.0', agents: { pipeline: [{ name: 'a' }] } } };
    expect(slots.ask(free, free.spec, now)).to.equal(undefined);
  });
});
