import { expect } from 'chai';
import { Informer } from '../../../src/kube/informer.js';
import { MultiNamespaceInformer } from '../../../src/kube/multi-namespace-informer.js';
import { sourceOf } from '../../support/informer-sources.js';

interface Job {
  metadata: { name: string; namespace: string; resourceVersion: string; labels: { owner: string } };
}

const job = (namespace: string, name: string, owner: string): Job => ({
  metadata: { name, namespace, resourceVersion: '1', labels: { owner } },
});

describe('the cache of several namespaces (MultiNamespaceInformer)', () => {
  function caches() {
    const a = sourceOf([job('team-a', 'one', 'x'), job('team-a', 'two', 'y')]);
    const b = sourceOf([job('team-b', 'one', 'x')]);
    const informers = new Map([
      ['team-a', new Informer<Job>('jobs', a.source)],
      ['team-b', new Informer<Job>('jobs', b.source)],
    ]);
    return { multi: new MultiNamespaceInformer('jobs', informers), a, b };
  }

  it('is synced once every namespace is, and reads each by its own key', async () => {
    const { multi } = caches();
    expect(multi.hasSynced).to.equal(false);
    await multi.start();
    expect(multi.hasSynced).to.equal(true);
    expect(multi.get('team-a/two')?.metadata.namespace).to.equal('team-a');
    expect(multi.get('team-b/one')?.metadata.namespace).to.equal('team-b');
    expect(multi.get('team-c/one')).to.equal(undefined);
    expect(multi.get('one'), 'a key without a namespace').to.equal(undefined);
    expect(
      [...multi.values()].map((each) => `${each.metadata.namespace}/${each.metadata.name}`).sort(),
    ).to.deep.equal(['team-a/one', 'team-a/two', 'team-b/one']);
    multi.stop();
  });

  it('indexes and tells its handlers of every namespace’s objects', async () => {
    const { multi, b } = caches();
    multi.addIndex('owner', (each) => [each.metadata.labels.owner]);
    const added: string[] = [];
    multi.on({ add: (each) => added.push(`${each.metadata.namespace}/${each.metadata.name}`) });
    await multi.start();
    expect(
      multi
        .byIndex('owner', 'x')
        .map((each) => each.metadata.namespace)
        .sort(),
    ).to.deep.equal(['team-a', 'team-b']);
    // team-b's watch starts after its list: wait for it, with a deadline.
    const deadline = Date.now() + 5_000;
    while (!b.watch.emit) {
      if (Date.now() > deadline) throw new Error('team-b was never watched');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const three = job('team-b', 'three', 'x');
    b.watch.emit('ADDED', { metadata: { ...three.metadata, resourceVersion: '2' } });
    expect(added).to.include.members(['team-a/one', 'team-b/one', 'team-b/three']);
    expect(multi.byIndex('owner', 'x')).to.have.length(3);
    multi.stop();
  });
});
