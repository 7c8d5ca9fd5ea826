/**
 * The Reconciler over fakes of the informer sources and the HTTP client (issue 26): what it
 * writes and in which order (a Job together with the status that records it, issue 31), the
 * expectation that keeps a Job from being created twice before the informer sees it, and the park
 * paths when the API server refuses a write.
 */
import { expect } from 'chai';
import { Reconciler, type ReconcilerDeps } from '../../../src/controller/reconciler.js';
import { JobCache } from '../../../src/controller/job-cache.js';
import { EventRecorder } from '../../../src/controller/event-recorder.js';
import { Notifier } from '../../../src/controller/notifier.js';
import { Informer, objectKey } from '../../../src/kube/informer.js';
import { JobExpectations } from '../../../src/controller/job-expectations.js';
import { sourceOf } from '../../support/informer-sources.js';
import { eventually } from '../../support/eventually.js';
import { KubeApiError, type KubeHttp, type KubeRequest } from '../../../src/kube/http.js';
import type { CachedRunbook, CachedJob, CachedPod } from '../../../src/kube/types.js';
import type { AgentCatalog } from '../../../src/api/catalog.js';
import { createLogger } from '../../../src/observability/logger.js';

const CATALOG: AgentCatalog = { agents: [{ name: 'a', image: 'registry.example/agents/a:1' }] };

/** An API server that records each request and answers by the test's rule. */
class FakeHttp {
  readonly requests: KubeRequest[] = [];
  refuse: (request: KubeRequest, index: number) => boolean = () => false;
  /** An answer that waits: the request is recorded at once, answered when the promise settles. */
  hold: (request: KubeRequest) => Promise<void> | undefined = () => undefined;
  /** The status of a failure other than a refusal (e.g. 409 for a stale write). */
  fail: (request: KubeRequest) => number | undefined = () => undefined;

  async request(req: KubeRequest): Promise<unknown> {
    this.requests.push(req);
    const index = this.requests.filter((r) => r.path === req.path).length;
    await this.hold(req);
    if (this.refuse(req, index))
      throw new KubeApiError(422, 'Invalid', `${req.path} is invalid: refused by the test`);
    const failed = this.fail(req);
    if (failed !== undefined) throw new KubeApiError(failed, 'Conflict', `${req.path}: failed by the test`);
    return req.body ?? {};
  }

  async send(req: KubeRequest): Promise<void> {
    await this.request(req);
  }

  /** Holds the answers to status updates until the returned function is called. */
  holdStatus(): () => void {
    let answer = () => {};
    const answered = new Promise<void>((resolve) => {
      answer = resolve;
    });
    this.hold = (req) => (req.path.endsWith('/status') ? answered : undefined);
    return answer;
  }

  /** The writes the reconciler made (not Events, which the recorder sends on its own time). */
  writes(): string[] {
    return this.requests
      .filter((r) => r.method !== 'GET' && !r.path.includes('/events'))
      .map((r) => `${r.method} ${r.path.replace(/^\/apis\/[^/]+\/[^/]+\/namespaces\/ns\//, '')}`); // e.g. POST jobs
  }

  statuses(): { phase?: string; conditions?: { type: string; reason?: string; message?: string }[] }[] {
    return this.requests
      .filter((r) => r.method === 'PUT' && r.path.endsWith('/status'))
      .map((r) => (r.body as { status: { phase?: string } }).status);
  }
}

/** Polls until the writes sent so far are `expected` (a reconcile waiting on a held answer). */
const writesBecome = (http: FakeHttp, expected: string[]) =>
  eventually(
    () => {
      expect(http.writes()).to.deep.equal(expected);
      return Promise.resolve();
    },
    5_000,
    5,
  );

const runbook = (): CachedRunbook => ({
  apiVersion: 'i2s.studio/v2',
  kind: 'AgentRunbook',
  metadata: { name: 'rb', namespace: 'ns', uid: 'uid-1', generation: 1, resourceVersion: '7' },
  spec: { version: '1.0.0', execution: { mode: 'pipeline' }, agents: { pipeline: [{ name: 'a' }] } },
});

/** A run under way: it holds its slot, its first stage has succeeded and its second is next. */
const underWay = (): CachedRunbook => ({
  ...runbook(),
  spec: {
    version: '1.0.0',
    execution: { mode: 'pipeline' },
    agents: { pipeline: [{ name: 'a' }, { name: 'b', agent: 'a' }] },
  },
  status: {
    phase: 'Running',
    observedGeneration: 1,
    execution: 'g1',
    startTime: '2026-01-01T00:00:00Z',
    stages: [
      { name: 'a', phase: 'Succeeded', attempt: 1, outputs: {} },
      { name: 'b', phase: 'Pending' },
    ],
  },
});

async function harness(object = runbook(), extra: Partial<ReconcilerDeps> = {}) {
  const http = new FakeHttp();
  const runbooks = sourceOf([object]);
  const jobs = sourceOf<CachedJob>([]);
  const informers = {
    runbooks: new Informer<CachedRunbook>('agentrunbooks', runbooks.source),
    jobs: new Informer<CachedJob>('jobs', jobs.source),
    pods: new Informer<CachedPod>('pods', sourceOf<CachedPod>([]).source),
  };
  await Promise.all(Object.values(informers).map((informer) => informer.start()));
  const log = createLogger('error');
  // The park paths log their refusals as errors, which the tests provoke on purpose.
  log.silent = true;
  const kube = http as unknown as KubeHttp;
  // As the controller's Job watch does.
  const expectations = new JobExpectations();
  informers.jobs.on({ add: (job) => expectations.shown(objectKey(job)) });
  const reconciler = new Reconciler({
    http: kube,
    runbooks: informers.runbooks,
    cache: new JobCache(informers.jobs, informers.pods),
    catalog: () => CATALOG,
    recorder: new EventRecorder(kube, log),
    notifier: new Notifier(() => CATALOG, log),
    log,
    now: () => new Date('2026-01-01T00:00:00Z'),
    expectations,
    ...extra,
  });
  const stop = () => {
    for (const informer of Object.values(informers)) informer.stop();
  };
  return { http, reconciler, runbooks, informers, stop };
}

describe('the Reconciler over fakes of the API (issue 26)', () => {
  it('writes a starting run’s status before its first Job: who holds a concurrency slot is read from the statuses', async () => {
    const h = await harness();
    const answerStatus = h.http.holdStatus();
    try {
      const reconciled = h.reconciler.reconcile('ns/rb');
      await writesBecome(h.http, ['PUT agentrunbooks/rb/status']);
      // Nothing else is sent while the status is unanswered.
      await new Promise((resolve) => setImmediate(resolve));
      expect(h.http.writes()).to.deep.equal(['PUT agentrunbooks/rb/status']);
      answerStatus();
      await reconciled;
      expect(h.http.writes()).to.deep.equal(['PUT agentrunbooks/rb/status', 'POST jobs']);
      expect(h.http.statuses()[0]?.phase).to.equal('Running');
    } finally {
      h.stop();
    }
  });

  it('sends the next stage’s Job of a run under way while the status that records it is still being written', async () => {
    const h = await harness(underWay());
    const answerStatus = h.http.holdStatus();
    try {
      const reconciled = h.reconciler.reconcile('ns/rb');
      // The status is not answered until the Job has been sent: a reconcile that waited for it first never ends.
      await writesBecome(h.http, ['PUT agentrunbooks/rb/status', 'POST jobs']);
      answerStatus();
      await reconciled;
      expect(h.http.statuses()[0]?.phase).to.equal('Running');
    } finally {
      h.stop();
    }
  });

  it('keeps the Job when the status written with it is stale (409), for the next reconcile to adopt', async () => {
    const h = await harness(underWay());
    h.http.fail = (req) => (req.path.endsWith('/status') ? 409 : undefined);
    try {
      const failed = await h.reconciler.reconcile('ns/rb').then(
        () => undefined,
        (error: unknown) => error as KubeApiError,
      );
      expect(failed?.statusCode).to.equal(409);
      expect(h.http.writes()).to.deep.equal(['PUT agentrunbooks/rb/status', 'POST jobs']);
    } finally {
      h.stop();
    }
  });

  it('does not create the Job again before the Job informer has seen it', async () => {
    const h = await harness();
    try {
      await h.reconciler.reconcile('ns/rb');
      // The runbook informer sees the status just written; the Job informer has not caught up.
      const written = h.http.requests.find((r) => r.path.endsWith('/status'))?.body as CachedRunbook;
      h.runbooks.watch.emit?.('MODIFIED', {
        ...written,
        metadata: { ...written.metadata, resourceVersion: '8' },
      });
      await h.reconciler.reconcile('ns/rb');
      expect(h.http.writes().filter((write) => write.startsWith('POST'))).to.have.length(1);
    } finally {
      h.stop();
    }
  });

  it('parks the runbook with the API server’s reason when it refuses the Job (JobRejected)', async () => {
    const h = await harness();
    h.http.refuse = (req) => req.method === 'POST' && req.path.endsWith('/jobs');
    try {
      await h.reconciler.reconcile('ns/rb');
      const parked = h.http.statuses().at(-1);
      expect(parked?.phase).to.equal('Failed');
      expect(parked?.conditions?.find((c) => c.type === 'Ready')?.reason).to.equal('JobRejected');
      expect(h.http.writes()).to.deep.equal([
        'PUT agentrunbooks/rb/status',
        'POST jobs',
        'PUT agentrunbooks/rb/status',
      ]);
    } finally {
      h.stop();
    }
  });

  it('parks with StatusRejected when the status is refused, and writes a bare park when that is refused too', async () => {
    const h = await harness();
    // The run's status, then the park that keeps its stages, are refused; the bare park is taken.
    h.http.refuse = (req, index) => req.path.endsWith('/status') && index <= 2;
    try {
      await h.reconciler.reconcile('ns/rb');
      const statuses = h.http.statuses();
      expect(statuses).to.have.length(3);
      expect(
        statuses.slice(1).map((s) => s.conditions?.find((c) => c.type === 'Ready')?.reason),
      ).to.deep.equal(['StatusRejected', 'StatusRejected']);
      expect(statuses[2]?.phase).to.equal('Failed');
      // Nothing was started for a run whose status could not be written.
      expect(h.http.writes().filter((write) => write.startsWith('POST'))).to.deep.equal([]);
    } finally {
      h.stop();
    }
  });

  it('deletes the Job sent with a run’s status when that status is refused, before the park', async () => {
    const h = await harness(underWay());
    h.http.refuse = (req, index) => req.path.endsWith('/status') && index === 1;
    try {
      await h.reconciler.reconcile('ns/rb');
      const writes = h.http.writes();
      expect(writes.slice(0, 2)).to.deep.equal(['PUT agentrunbooks/rb/status', 'POST jobs']);
      expect(writes[2]).to.match(/^DELETE jobs\/rb-b-/);
      expect(writes.slice(3)).to.deep.equal(['PUT agentrunbooks/rb/status']);
      expect(h.http.statuses()[1]?.conditions?.find((c) => c.type === 'Ready')?.reason).to.equal(
        'StatusRejected',
      );
    } finally {
      h.stop();
    }
  });

  it('deletes a Job an earlier reconcile sent, whose status failed, when the status that records it is refused', async () => {
    const h = await harness(underWay());
    let statusAnswer: 'conflict' | 'refuse' = 'conflict';
    h.http.fail = (req) => (req.path.endsWith('/status') && statusAnswer === 'conflict' ? 409 : undefined);
    h.http.refuse = (req, index) => req.path.endsWith('/status') && statusAnswer === 'refuse' && index === 2;
    try {
      await h.reconciler.reconcile('ns/rb').catch(() => undefined);
      expect(h.http.writes()).to.deep.equal(['PUT agentrunbooks/rb/status', 'POST jobs']);
      statusAnswer = 'refuse';
      // The Job is expected, not created again; the refused status must not leave it running.
      await h.reconciler.reconcile('ns/rb');
      const writes = h.http.writes().slice(2);
      expect(writes[0]).to.equal('PUT agentrunbooks/rb/status');
      expect(writes[1]).to.match(/^DELETE jobs\/rb-b-/);
      expect(writes.slice(2)).to.deep.equal(['PUT agentrunbooks/rb/status']);
    } finally {
      h.stop();
    }
  });

  describe('the reconcile budget (--reconcile-budget)', () => {
    /** An engine clock that advances by each of `steps` ms, one per decision (two reads each). */
    const engineClock = (steps: number[]) => {
      let now = 0;
      let reads = 0;
      return () => {
        reads += 1;
        if (reads % 2 === 0) now += steps[reads / 2 - 1] ?? 0;
        return now;
      };
    };
    const readyOf = (h: Awaited<ReturnType<typeof harness>>) =>
      h.http
        .statuses()
        .at(-1)
        ?.conditions?.find((c) => c.type === 'Ready');

    it('decides again when a decision is over the budget, and goes on when the second is within it', async () => {
      const h = await harness(runbook(), { reconcileBudgetMs: 1000, engineClock: engineClock([1500, 20]) });
      try {
        await h.reconciler.reconcile('ns/rb');
        expect(h.http.statuses()[0]?.phase).to.equal('Running');
        expect(h.http.writes()).to.deep.equal(['PUT agentrunbooks/rb/status', 'POST jobs']);
      } finally {
        h.stop();
      }
    });

    it('parks a runbook over the budget twice in a row with ReconcileBudgetExceeded', async () => {
      const h = await harness(runbook(), { reconcileBudgetMs: 1000, engineClock: engineClock([1500, 1200]) });
      try {
        await h.reconciler.reconcile('ns/rb');
        expect(h.http.statuses().at(-1)?.phase).to.equal('Failed');
        expect(h.http.writes()).to.deep.equal(['PUT agentrunbooks/rb/status']);
        expect(readyOf(h)?.reason).to.equal('ReconcileBudgetExceeded');
        expect(readyOf(h)?.message).to.contain(
          "deciding this runbook took 1200 ms, over the operator's budget of 1000 ms",
        );
      } finally {
        h.stop();
      }
    });
  });

  describe('spec.template', () => {
    const fromTemplate = (): CachedRunbook => ({
      ...runbook(),
      spec: { template: { name: 'base' }, context: {} } as unknown as CachedRunbook['spec'],
    });

    it('writes the template’s outcome the engine decides, and starts nothing, when it cannot be resolved', async () => {
      const asked: string[] = [];
      const h = await harness(fromTemplate(), {
        templates: {
          resolve: (object) => {
            asked.push(object.metadata.name);
            return { reason: 'TemplateNotFound', message: 'no template named base' };
          },
        },
      });
      try {
        await h.reconciler.reconcile('ns/rb');
        expect(asked).to.deep.equal(['rb']);
        expect(h.http.writes()).to.deep.equal(['PUT agentrunbooks/rb/status']);
        const status = h.http.statuses()[0];
        expect(status?.phase).to.equal('Pending');
        expect(status?.conditions?.find((c) => c.type === 'TemplateResolved')?.reason).to.equal(
          'TemplateNotFound',
        );
      } finally {
        h.stop();
      }
    });

    it('runs the spec the status holds for this generation without resolving the template again', async () => {
      const stored = fromTemplate();
      stored.status = {
        template: {
          kind: 'AgentRunbookTemplate',
          name: 'base',
          observedGeneration: 1,
          reason: 'named in spec.template',
          spec: runbook().spec as unknown as Record<string, unknown>,
        },
      };
      const h = await harness(stored, {
        templates: {
          resolve: () => {
            throw new Error('resolved again');
          },
        },
      });
      try {
        await h.reconciler.reconcile('ns/rb');
        expect(h.http.writes()).to.deep.equal(['PUT agentrunbooks/rb/status', 'POST jobs']);
        expect(
          (h.http.statuses()[0] as { template?: { name: string } } | undefined)?.template?.name,
        ).to.equal('base');
      } finally {
        h.stop();
      }
    });
  });
});
