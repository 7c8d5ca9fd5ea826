import { expect } from 'chai';
import { ResultCache, withoutData } from '../../../src/controller/result-cache.js';
import { Informer } from '../../../src/kube/informer.js';
import type { CachedPod, CachedResultEntry } from '../../../src/kube/types.js';
import { sourceOf } from '../../support/informer-sources.js';

const KEY = `sha256:${'c'.repeat(64)}`;
const DIGEST = `sha256:${'d'.repeat(64)}`;

function result(name: string, namespace: string, stored: string, expires: string): CachedResultEntry {
  return {
    metadata: { name, namespace, uid: `uid-${name}`, resourceVersion: '1' },
    spec: {
      key: KEY,
      agent: 'research',
      image: 'registry.example/research:1',
      imageDigest: DIGEST,
      origin: { runbook: 'rb', execution: 'g1', stage: 'research', time: stored },
      maxAge: '24h',
      expiresAt: expires,
      usage: { tokens: 1, costUSD: '0.01' },
      outputRefs: { report: { key: 'report', bytes: 10, preview: 'r', digest: DIGEST } },
      data: { report: '"rrrrrrrr"' },
      bytes: 10,
    },
  };
}

/** Informers the tests started, stopped after each (their silence timers would keep mocha alive). */
const started: { stop(): void }[] = [];

async function cacheOf(results: CachedResultEntry[], pods: CachedPod[] = []) {
  const informer = new Informer('cachedresults', sourceOf(results.map(withoutData)).source);
  const podInformer = new Informer('pods', sourceOf(pods).source);
  const cache = new ResultCache(informer, podInformer);
  started.push(informer, podInformer);
  await Promise.all([informer.start(), podInformer.start()]);
  return cache;
}

describe('the stored results a runbook sees', () => {
  afterEach(() => {
    for (const informer of started.splice(0)) informer.stop();
  });
  const now = new Date('2026-06-01T12:00:00Z');

  it("holds a runbook's own namespace's results only, the newest that has not expired", async () => {
    const cache = await cacheOf([
      result('old', 'team-a', '2026-06-01T09:00:00Z', '2026-06-02T09:00:00Z'),
      result('new', 'team-a', '2026-06-01T10:00:00Z', '2026-06-02T10:00:00Z'),
      result('expired', 'team-a', '2026-06-01T11:00:00Z', '2026-06-01T11:30:00Z'),
      result('theirs', 'team-b', '2026-06-01T11:00:00Z', '2026-06-02T11:00:00Z'),
    ]);
    expect(cache.view('team-a', now).lookup(KEY)?.name).to.equal('new');
    expect(cache.view('team-b', now).lookup(KEY)?.name).to.equal('theirs');
    expect(cache.view('team-c', now).lookup(KEY)).to.equal(undefined);
  });

  it('keeps results without their larger outputs, whose digests stay', async () => {
    const cache = await cacheOf([result('new', 'team-a', '2026-06-01T10:00:00Z', '2026-06-02T10:00:00Z')]);
    const found = cache.view('team-a', now).lookup(KEY);
    expect(found?.spec).to.not.have.property('data');
    expect(found?.spec.outputRefs?.report?.digest).to.equal(DIGEST);
  });

  it("knows an image's digest per namespace, from stored results and from the Pods that ran it", async () => {
    const pod: CachedPod = {
      metadata: { name: 'p', namespace: 'team-b', uid: 'p', resourceVersion: '1' },
      spec: { containers: [{ name: 'agent', image: 'registry.example/research:1' }] },
      status: {
        containerStatuses: [
          { name: 'agent', imageID: `docker-pullable://registry.example/research@sha256:${'e'.repeat(64)}` },
        ],
      },
    };
    const cache = await cacheOf(
      [result('new', 'team-a', '2026-06-01T10:00:00Z', '2026-06-02T10:00:00Z')],
      [pod],
    );
    expect(cache.view('team-a', now).imageDigest('registry.example/research:1')).to.equal(DIGEST);
    expect(cache.view('team-b', now).imageDigest('registry.example/research:1')).to.equal(
      `sha256:${'e'.repeat(64)}`,
    );
    expect(cache.view('team-c', now).imageDigest('registry.example/research:1')).to.equal(undefined);
  });
});
