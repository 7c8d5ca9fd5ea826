import { expect } from 'chai';
import {
  STATUS_EXPECTATION_TTL_MS,
  StatusExpectations,
} from '../../../src/controller/status-expectations.js';
import { Informer } from '../../../src/kube/informer.js';
import type { CachedRunbook } from '../../../src/kube/types.js';
import { sourceOf } from '../../support/informer-sources.js';

const at = (resourceVersion: string): CachedRunbook => ({
  metadata: { name: 'rb', namespace: 'ns', uid: 'uid-1', generation: 1, resourceVersion },
  spec: { version: '1.0.0', agents: {} },
});

async function harness() {
  const { source, watch } = sourceOf([at('7')]);
  const runbooks = new Informer<CachedRunbook>('agentrunbooks', source);
  const enqueued: string[] = [];
  let now = 1_000_000;
  const expectations = new StatusExpectations(
    runbooks,
    (key) => enqueued.push(key),
    () => now,
  );
  await runbooks.start();
  return {
    runbooks,
    expectations,
    enqueued,
    watched: (resourceVersion: string) => {
      watch.emit?.('MODIFIED', at(resourceVersion));
    },
    later: (ms: number) => (now += ms),
    stop: () => {
      runbooks.stop();
    },
  };
}

describe('the status writes the runbook cache has not shown yet', () => {
  it('holds a reconcile until the watch brings its own write, then enqueues the runbook once', async () => {
    const h = await harness();
    h.expectations.written('ns/rb', '8');
    expect(h.expectations.behind(at('7'))).to.equal(true);
    expect(h.enqueued).to.deep.equal([]);
    h.watched('8');
    expect(h.enqueued).to.deep.equal(['ns/rb']);
    expect(h.expectations.behind(at('8'))).to.equal(false);
    h.watched('9');
    expect(h.enqueued, 'met once, it is gone').to.deep.equal(['ns/rb']);
    h.stop();
  });

  it('enqueues nothing when no reconcile waited, and holds nothing for a cache already there', async () => {
    const h = await harness();
    h.expectations.written('ns/rb', '8');
    h.watched('8');
    expect(h.enqueued).to.deep.equal([]);
    h.expectations.written('ns/rb', '9');
    expect(h.expectations.behind(at('9'))).to.equal(false);
    h.expectations.written('ns/rb', undefined);
    expect(h.expectations.behind(at('7')), 'no version, no expectation').to.equal(false);
    h.stop();
  });

  it('lets an expectation go after a while: a relist may skip the written version', async () => {
    const h = await harness();
    h.expectations.written('ns/rb', '8');
    h.later(STATUS_EXPECTATION_TTL_MS - 1);
    expect(h.expectations.behind(at('7'))).to.equal(true);
    h.later(2);
    expect(h.expectations.behind(at('7'))).to.equal(false);
    expect(h.expectations.behind(at('7')), 'and it stays gone').to.equal(false);
    h.stop();
  });
});
