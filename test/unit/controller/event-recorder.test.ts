import { expect } from 'chai';
import type { EventReason } from '../../../src/api/reasons.js';
import { EventRecorder } from '../../../src/controller/event-recorder.js';
import type { KubeHttp, KubeRequest } from '../../../src/kube/http.js';
import { createLogger } from '../../../src/observability/logger.js';
import type { CachedRunbook } from '../../../src/kube/types.js';

/** Records the requests and holds each until the test releases it, as a slow API server would. */
class HeldApi {
  readonly requests: KubeRequest[] = [];
  private readonly held: (() => void)[] = [];
  private created = 0;

  request(req: KubeRequest): Promise<unknown> {
    this.requests.push(req);
    return new Promise((resolve) => {
      this.held.push(() => {
        resolve(req.method === 'POST' ? { metadata: { name: `event-${++this.created}` } } : {});
      });
    });
  }

  async send(req: KubeRequest): Promise<void> {
    await this.request(req);
  }

  /** Releases the held requests until none are left. */
  async releaseAll(recorder: EventRecorder): Promise<void> {
    const state = { idle: false };
    void recorder.idle().then(() => (state.idle = true));
    while (!state.idle) {
      for (const release of this.held.splice(0)) release();
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}

const runbook = (uid: string) =>
  ({ metadata: { name: uid, namespace: 'ns', uid }, spec: {} }) as unknown as CachedRunbook;
const event = (message: string, reason: EventReason = 'StageRetrying') => ({
  type: 'Normal' as const,
  reason,
  message,
});

const log = createLogger('error');

describe('the Event recorder', () => {
  it('returns at once and sends in the background, one object’s Events in order', async () => {
    const api = new HeldApi();
    const recorder = new EventRecorder(api as unknown as KubeHttp, log);
    recorder.record(runbook('a'), [event('first'), event('second')], new Date());
    // Nothing answered yet, and record() has returned: the first Event is on its way, the second waits for it.
    expect(api.requests.map((r) => (r.body as { message: string }).message)).to.deep.equal(['first']);
    await api.releaseAll(recorder);
    expect(api.requests.map((r) => (r.body as { message: string }).message)).to.deep.equal([
      'first',
      'second',
    ]);
  });

  it('counts a repeated Event on the stored one instead of creating another', async () => {
    const api = new HeldApi();
    const recorder = new EventRecorder(api as unknown as KubeHttp, log);
    for (let i = 0; i < 3; i += 1) recorder.record(runbook('a'), [event('same')], new Date());
    await api.releaseAll(recorder);
    expect(api.requests.map((r) => r.method)).to.deep.equal(['POST', 'PATCH', 'PATCH']);
    expect(api.requests[2]).to.deep.include({ path: '/api/v1/namespaces/ns/events/event-1' });
    expect(api.requests[2]?.body).to.deep.include({ count: 3 });
  });

  it('folds similar Events of one object into one combined Event after ten different messages', async () => {
    const api = new HeldApi();
    const recorder = new EventRecorder(api as unknown as KubeHttp, log);
    const events = Array.from({ length: 14 }, (_, i) => event(`stage s${i} started`));
    recorder.record(runbook('a'), events, new Date());
    recorder.record(runbook('b'), [event('stage s0 started')], new Date());
    await api.releaseAll(recorder);
    const posts = api.requests.filter((r) => r.method === 'POST');
    const patches = api.requests.filter((r) => r.method === 'PATCH');
    // a: ten Events of their own, then one combined Event counted four times; b: its own.
    expect(posts).to.have.length(12);
    const messages = posts.map((r) => (r.body as { message: string }).message);
    expect(messages.filter((m) => m.startsWith('(combined from similar events)'))).to.deep.equal([
      '(combined from similar events): stage s10 started',
    ]);
    expect(patches).to.have.length(3);
    expect(patches.at(-1)?.body).to.deep.include({
      count: 4,
      message: '(combined from similar events): stage s13 started',
    });
  });

  it('drops Events beyond its queue rather than growing without bound', async () => {
    const api = new HeldApi();
    const recorder = new EventRecorder(api as unknown as KubeHttp, log);
    const many = Array.from({ length: 3000 }, (_, i) => event(`message ${i}`, `Reason${i}` as EventReason));
    recorder.record(runbook('a'), many, new Date());
    await api.releaseAll(recorder);
    expect(api.requests).to.have.length(1000);
  });
});
