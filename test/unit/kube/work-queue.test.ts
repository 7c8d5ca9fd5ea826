import { expect } from 'chai';
import { MAX_TIMER_MS, WorkQueue } from '../../../src/kube/work-queue.js';
import {
  ItemExponentialRateLimiter,
  TokenBucketRateLimiter,
  MaxOfRateLimiter,
} from '../../../src/kube/rate-limiter.js';

describe('work queue', () => {
  it('holds a waiting key once however often it is added', async () => {
    const queue = new WorkQueue();
    queue.add('a');
    queue.add('b');
    queue.add('a');
    expect(queue.length).to.equal(2);
    expect(await queue.get()).to.equal('a');
    expect(await queue.get()).to.equal('b');
  });

  it('never hands a key being processed to a second worker, and requeues it when done if it was added meanwhile', async () => {
    const queue = new WorkQueue();
    queue.add('a');
    const first = await queue.get();
    queue.add('a');
    expect(queue.length).to.equal(0);
    let second: string | undefined;
    const waiting = queue.get().then((key) => (second = key));
    await Promise.resolve();
    expect(second).to.equal(undefined);
    queue.done(first ?? '');
    await waiting;
    expect(second).to.equal('a');
  });

  it('hands out low-priority keys only when no other waits, and raises one added again at normal priority', async () => {
    const queue = new WorkQueue();
    queue.add('new-1', 'low');
    queue.add('new-2', 'low');
    queue.add('running');
    queue.add('new-3', 'low');
    queue.add('new-2');
    expect(queue.length).to.equal(4);
    const order = [];
    for (let i = 0; i < 4; i += 1) order.push(await queue.get());
    expect(order).to.deep.equal(['running', 'new-2', 'new-1', 'new-3']);
  });

  it('processes at most lowPriorityLimit low-priority keys at once, the other workers kept for the rest', async () => {
    const queue = new WorkQueue();
    queue.lowPriorityLimit = 2;
    for (const key of ['new-1', 'new-2', 'new-3', 'new-4']) queue.add(key, 'low');
    const first = [await queue.get(), await queue.get()];
    expect(first).to.deep.equal(['new-1', 'new-2']);
    // A third worker waits: the low keys left are held while two are processed...
    const third = queue.get();
    // ...and a key of normal priority goes to it at once.
    queue.add('running');
    expect(await third).to.equal('running');
    const fourth = queue.get();
    const fifth = queue.get();
    // One low key done lets exactly one more start.
    queue.done('new-1');
    expect(await fourth).to.equal('new-3');
    queue.add('done-now');
    expect(await fifth).to.equal('done-now');
    // A held low key added again at normal priority is not held.
    queue.add('new-4');
    expect(await queue.get()).to.equal('new-4');
    expect(queue.length).to.equal(0);
  });

  it('requeues a key added at normal priority while it was processed at normal priority', async () => {
    const queue = new WorkQueue();
    queue.add('a', 'low');
    const first = await queue.get();
    queue.add('a', 'low');
    queue.add('a');
    queue.add('b', 'low');
    queue.done(first ?? '');
    expect(await queue.get()).to.equal('a');
    expect(await queue.get()).to.equal('b');
  });

  it('hands a key to a worker that is already waiting', async () => {
    const queue = new WorkQueue();
    const waiting = queue.get();
    queue.add('x');
    expect(await waiting).to.equal('x');
  });

  it('delivers addAfter keys after their delay, the earliest delay winning', async () => {
    const queue = new WorkQueue();
    const started = Date.now();
    queue.addAfter('late', 40);
    queue.addAfter('late', 10_000);
    expect(queue.length).to.equal(0);
    expect(await queue.get()).to.equal('late');
    expect(Date.now() - started).to.be.at.least(35);
    queue.shutDown();
  });

  it('gives waiting workers undefined on shut down, and drains', async () => {
    const queue = new WorkQueue();
    queue.add('a');
    const key = await queue.get();
    const waiting = queue.get();
    queue.shutDown();
    expect(await waiting).to.equal(undefined);
    let drained = false;
    const draining = queue.drained().then(() => (drained = true));
    await Promise.resolve();
    expect(drained).to.equal(false);
    queue.done(key ?? '');
    await draining;
    expect(drained).to.equal(true);
  });
});

describe('rate limiters', () => {
  it('per item: 5 ms doubling to a cap, forgotten on success', () => {
    const limiter = new ItemExponentialRateLimiter(5, 40);
    expect([1, 2, 3, 4, 5].map(() => limiter.when('a'))).to.deep.equal([5, 10, 20, 40, 40]);
    expect(limiter.when('b')).to.equal(5);
    expect(limiter.retries('a')).to.equal(5);
    limiter.forget('a');
    expect(limiter.when('a')).to.equal(5);
  });

  it('overall: a token bucket lets a burst through, then spaces items out', () => {
    let now = 0;
    const bucket = new TokenBucketRateLimiter(10, 3, { now: () => now });
    expect([bucket.when(), bucket.when(), bucket.when()]).to.deep.equal([0, 0, 0]);
    expect(bucket.when()).to.equal(100);
    now += 1000;
    expect(bucket.when()).to.equal(0);
  });

  it('combined: the larger delay wins', () => {
    const now = 0;
    const limiter = new MaxOfRateLimiter([
      new ItemExponentialRateLimiter(5, 1000),
      new TokenBucketRateLimiter(10, 1, { now: () => now }),
    ]);
    expect(limiter.when('a')).to.equal(5);
    expect(limiter.when('a')).to.equal(100);
  });

  it('clamps a delay past setTimeout’s range instead of firing at once', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    const queue = new WorkQueue();
    queue.addAfter('ns/far', 40 * 24 * 3600 * 1000);
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(queue.length).to.equal(0);
    expect(warnings).to.not.include('TimeoutOverflowWarning');
    expect(MAX_TIMER_MS).to.equal(2 ** 31 - 1);
    queue.shutDown();
    process.off('warning', onWarning);
  });

  it('tells its observer of adds (once per wait), retries, time queued and time worked, as client-go counts them', async () => {
    const seen = { added: 0, retried: 0, taken: [] as number[], worked: [] as number[] };
    const queue = new WorkQueue();
    queue.observer = {
      added: () => (seen.added += 1),
      retried: () => (seen.retried += 1),
      taken: (seconds) => seen.taken.push(seconds),
      worked: (seconds) => seen.worked.push(seconds),
    };
    queue.add('ns/a');
    queue.add('ns/a'); // already waiting: not another add
    const key = await queue.get();
    queue.add('ns/a'); // added while processing: one add, handed out again after done
    expect(queue.processingSeconds()).to.have.length(1);
    queue.done(key ?? '');
    expect(await queue.get()).to.equal('ns/a');
    queue.done('ns/a');
    queue.addRateLimited('ns/b');
    expect(seen.added).to.equal(2);
    expect(seen.retried).to.equal(1);
    expect(seen.taken).to.have.length(2);
    expect(seen.worked).to.have.length(2);
    expect(queue.processingSeconds()).to.deep.equal([]);
    queue.shutDown();
  });
});
