import { expect } from 'chai';
import {
  Informer,
  type InformerSource,
  type KubeObject,
  type WatchEventType,
} from '../../../src/kube/informer.js';

interface Obj extends KubeObject {
  data?: string;
}

function obj(name: string, resourceVersion: string, data = ''): Obj {
  return { metadata: { name, namespace: 'ns', resourceVersion }, data };
}

/** A scripted API: the test decides what each list returns and drives each watch by hand. */
class ScriptedSource implements InformerSource<Obj> {
  lists: Obj[][] = [];
  listCalls = 0;
  listErrors = 0;
  watches: {
    resourceVersion: string;
    emit: (type: WatchEventType, o: Obj) => void;
    end: (error?: unknown) => void;
    aborted: boolean;
  }[] = [];
  private waiters: (() => void)[] = [];

  list() {
    this.listCalls += 1;
    this.wake();
    if (this.listErrors > 0) {
      this.listErrors -= 1;
      return Promise.reject(new Error('connection refused'));
    }
    const items = this.lists.shift() ?? [];
    return Promise.resolve({ items, resourceVersion: String(this.listCalls * 100) });
  }

  watch(
    resourceVersion: string,
    _timeout: number,
    onEvent: (type: WatchEventType, o: Obj) => void,
    onDone: (error?: unknown) => void,
  ) {
    const watch = { resourceVersion, emit: onEvent, end: onDone, aborted: false };
    this.watches.push(watch);
    this.wake();
    return Promise.resolve({ abort: () => (watch.aborted = true) });
  }

  private wake() {
    for (const resolve of this.waiters.splice(0)) resolve();
  }

  /** Resolves when the predicate holds (re-checked on every list and watch call); rejects after 2 s. */
  async until(predicate: () => boolean): Promise<void> {
    const deadline = Date.now() + 2000;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error('the informer did not get there');
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  get current() {
    const watch = this.watches.at(-1);
    if (!watch) throw new Error('no watch');
    return watch;
  }
}

describe('informer', () => {
  let informer: Informer<Obj> | undefined;
  afterEach(() => informer?.stop());

  function start(source: ScriptedSource, options = {}) {
    const events: string[] = [];
    informer = new Informer<Obj>('test', source, { minBackoffMs: 5, maxBackoffMs: 20, ...options });
    informer.on({
      add: (o) => events.push(`add ${o.metadata?.name ?? ''}`),
      update: (o) => events.push(`update ${o.metadata?.name ?? ''} ${o.data ?? ''}`),
      delete: (o) => events.push(`delete ${o.metadata?.name ?? ''}`),
    });
    return { informer, events, started: informer.start() };
  }

  it('lists, then watches from the list resourceVersion and keeps the cache current', async () => {
    const source = new ScriptedSource();
    source.lists = [[obj('a', '1')]];
    const { informer, events, started } = start(source);
    await started;
    await source.until(() => source.watches.length === 1);
    expect(source.current.resourceVersion).to.equal('100');
    source.current.emit('ADDED', obj('b', '101'));
    source.current.emit('MODIFIED', obj('a', '102', 'x'));
    source.current.emit('DELETED', obj('b', '103'));
    expect(events).to.deep.equal(['add a', 'add b', 'update a x', 'delete b']);
    expect([...informer.values()].map((o) => o.metadata?.name)).to.deep.equal(['a']);
  });

  it('caches no object without the metadata it requires, and says which it left out', async () => {
    const source = new ScriptedSource();
    const logged: string[] = [];
    const nameless: Obj = { metadata: { namespace: 'ns', resourceVersion: '1' } };
    const clusterScoped: Obj = { metadata: { name: 'c', resourceVersion: '2' } };
    source.lists = [[obj('a', '1'), nameless, clusterScoped]];
    const { informer, events, started } = start(source, {
      requires: ['name', 'namespace'],
      log: (message: string) => logged.push(message),
    });
    await started;
    await source.until(() => source.watches.length === 1);
    source.current.emit('ADDED', { metadata: { name: 'd', resourceVersion: '101' } });
    source.current.emit('ADDED', obj('e', '102'));
    expect(events).to.deep.equal(['add a', 'add e']);
    expect([...informer.values()].map((o) => o.metadata?.name)).to.deep.equal(['a', 'e']);
    expect(logged.filter((line) => line.includes('left out'))).to.have.length(3);
    expect(logged.join('\n')).to.contain('test: left out c, which has no metadata.namespace');
  });

  it('keeps an index in step with adds, updates, deletes and relists, reading one bucket only', async () => {
    const source = new ScriptedSource();
    source.lists = [
      [obj('a', '1', 'red'), obj('b', '1', 'blue')],
      [obj('b', '5', 'red'), obj('c', '5', 'blue')],
    ];
    const { informer, started } = start(source);
    informer.addIndex('colour', (o) => (o.data ? [o.data] : []));
    await started;
    await source.until(() => source.watches.length === 1);
    const names = (colour: string) =>
      informer
        .byIndex('colour', colour)
        .map((o) => o.metadata?.name)
        .sort();
    expect(names('red')).to.deep.equal(['a']);
    source.current.emit('MODIFIED', obj('a', '2', 'blue'));
    source.current.emit('ADDED', obj('d', '3', 'red'));
    expect(names('red')).to.deep.equal(['d']);
    expect(names('blue')).to.deep.equal(['a', 'b']);
    source.current.emit('DELETED', obj('d', '4', 'red'));
    expect(names('red')).to.deep.equal([]);
    source.current.emit('ERROR', { metadata: {}, code: 410, message: 'too old resource version' } as Obj);
    await source.until(() => source.watches.length === 2);
    expect(names('red')).to.deep.equal(['b']);
    expect(names('blue')).to.deep.equal(['c']);
    expect([...informer.values()]).to.have.length(2);
  });

  it('resumes from the last resourceVersion (bookmarks included) when the server ends a watch', async () => {
    const source = new ScriptedSource();
    const { started } = start(source);
    await started;
    await source.until(() => source.watches.length === 1);
    source.current.emit('BOOKMARK', obj('', '150'));
    source.current.end();
    await source.until(() => source.watches.length === 2);
    expect(source.current.resourceVersion).to.equal('150');
    expect(source.listCalls).to.equal(1);
  });

  it('relists at once on 410 Gone, reporting what changed meanwhile', async () => {
    const source = new ScriptedSource();
    source.lists = [
      [obj('a', '1'), obj('b', '1')],
      [obj('a', '5', 'new'), obj('c', '5')],
    ];
    const { events, started } = start(source);
    await started;
    await source.until(() => source.watches.length === 1);
    source.current.emit('ERROR', { metadata: {}, code: 410, message: 'too old resource version' } as Obj);
    await source.until(() => source.watches.length === 2);
    expect(source.listCalls).to.equal(2);
    expect(events).to.deep.equal(['add a', 'add b', 'delete b', 'update a new', 'add c']);
  });

  it('keeps relisting with backoff while the API server is down, and recovers', async () => {
    const source = new ScriptedSource();
    const { started } = start(source);
    await started;
    await source.until(() => source.watches.length === 1);
    source.listErrors = 3;
    source.current.end(new Error('socket hang up'));
    await source.until(() => source.watches.length === 2);
    expect(source.listCalls).to.equal(5);
  });

  it('drops a watch that goes silent and relists', async () => {
    const source = new ScriptedSource();
    const { started } = start(source, { silenceMs: 30 });
    await started;
    await source.until(() => source.watches.length === 2);
    expect(source.watches[0]?.aborted).to.equal(true);
    expect(source.listCalls).to.equal(2);
  });
});
