/** The watches that enqueue runbooks, declared as controller-runtime's builder declares them. */
import { expect } from 'chai';
import { Watches } from '../../../src/controller/watches.js';
import { Informer } from '../../../src/kube/informer.js';
import type { CachedRunbook, CachedJob } from '../../../src/kube/types.js';
import { sourceOf } from '../../support/informer-sources.js';

const runbook = (name: string, generation = 1): CachedRunbook => ({
  apiVersion: 'i2s.studio/v2',
  kind: 'AgentRunbook',
  metadata: { name, namespace: 'ns', uid: `uid-${name}`, generation, resourceVersion: String(generation) },
  spec: { agents: {} } as unknown as CachedRunbook['spec'],
});

const job = (name: string, owner: string | undefined, resourceVersion = '1'): CachedJob => ({
  metadata: {
    name,
    namespace: 'ns',
    uid: `uid-${name}`,
    resourceVersion,
    ...(owner
      ? {
          ownerReferences: [
            {
              apiVersion: 'i2s.studio/v2',
              kind: 'AgentRunbook',
              name: owner,
              uid: `uid-${owner}`,
              controller: true,
            },
          ],
        }
      : {}),
  },
});

async function started<T extends { metadata?: { name?: string } }>(items: T[]) {
  const fake = sourceOf(items);
  const informer = new Informer<T>('test', fake.source);
  await informer.start();
  return {
    informer,
    emit: (type: 'ADDED' | 'MODIFIED' | 'DELETED', object: T) => fake.watch.emit?.(type, object),
  };
}

describe('watches: what enqueues a runbook', () => {
  it('For: a runbook added (at low priority) or deleted, and updated only where the predicate says so', async () => {
    const queued: string[] = [];
    const runbooks = await started<CachedRunbook>([]);
    new Watches({ add: (key, priority) => queued.push(`${key} ${priority}`) }).for(runbooks.informer, {
      update: (next, old) => next.metadata.generation !== old.metadata.generation,
    });
    runbooks.emit('ADDED', runbook('a'));
    runbooks.emit('MODIFIED', {
      ...runbook('a'),
      metadata: { ...runbook('a').metadata, resourceVersion: '9' },
    });
    runbooks.emit('MODIFIED', runbook('a', 2));
    runbooks.emit('DELETED', runbook('a', 2));
    runbooks.informer.stop();
    expect(queued).to.deep.equal(['ns/a low', 'ns/a normal', 'ns/a normal']);
  });

  it('Owns: a Job enqueues the runbook that controls it, and nothing for a Job without one', async () => {
    const queued: string[] = [];
    const jobs = await started<CachedJob>([]);
    new Watches({ add: (key, priority) => queued.push(`${key} ${priority}`) }).owns(jobs.informer);
    jobs.emit('ADDED', job('j1', 'rb'));
    jobs.emit('ADDED', job('j2', undefined));
    jobs.emit('MODIFIED', job('j1', 'rb', '2'));
    jobs.informer.stop();
    expect(queued).to.deep.equal(['ns/rb normal', 'ns/rb normal']);
  });

  it('enqueues what an informer lists at start at low priority, and what it is told later as usual', async () => {
    const queued: string[] = [];
    const jobs = sourceOf<CachedJob>([job('listed', 'old-run')]);
    const informer = new Informer<CachedJob>('jobs', jobs.source);
    new Watches({ add: (key, priority) => queued.push(`${key} ${priority}`) }).owns(informer);
    await informer.start();
    jobs.watch.emit?.('ADDED', job('new', 'running'));
    informer.stop();
    expect(queued).to.deep.equal(['ns/old-run low', 'ns/running normal']);
  });

  it('Watches: an object mapped to the runbooks it concerns, with a predicate per event', async () => {
    const queued: string[] = [];
    const runbooks = await started<CachedRunbook>([]);
    new Watches({ add: (key) => queued.push(key) }).watches(
      runbooks.informer,
      () => ['ns/waiting-1', 'ns/waiting-2'],
      {
        add: () => false,
        delete: () => true,
      },
    );
    runbooks.emit('ADDED', runbook('a'));
    runbooks.emit('DELETED', runbook('a'));
    runbooks.informer.stop();
    expect(queued).to.deep.equal(['ns/waiting-1', 'ns/waiting-2']);
  });
});
