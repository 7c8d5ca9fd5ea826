import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { NoticeSender, type NoticeResult } from '../../../src/controller/notice-sender.js';
import type { AgentCatalog } from '../../../src/api/catalog.js';
import type { Notice } from '../../../src/engine/run/notices.js';
import { createLogger } from '../../../src/observability/logger.js';

const runbook = { metadata: { name: 'rb', namespace: 'ns', uid: 'u1' }, spec: {} } as never;
const notice = (name: string): Notice => ({
  name,
  event: 'RunFailed',
  message: `ns/rb ${name}`,
  execution: 'g1',
  time: '2026-01-01T00:00:00Z',
});

describe('the notice sender: a bounded queue, retries with backoff, results counted', () => {
  let server: Server;
  let base = '';
  /** How each path answers: the statuses in turn, then 200. */
  const answers = new Map<string, number[]>();
  const bodies: string[] = [];

  before(async () => {
    server = createServer((request, response) => {
      let text = '';
      request.on('data', (chunk: Buffer) => (text += chunk.toString()));
      request.on('end', () => {
        bodies.push(text);
        response.statusCode = answers.get(request.url ?? '')?.shift() ?? 200;
        response.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  const sender = (config: AgentCatalog, counted: [string, string, NoticeResult][], capacity?: number) =>
    new NoticeSender(() => config, createLogger('error'), {
      attempts: 3,
      baseDelayMs: 5,
      ...(capacity === undefined ? {} : { capacity }),
      counted: (receiver, event, result) => counted.push([receiver, event, result]),
    });

  it('retries a receiver that fails, and counts it sent once it answers', async () => {
    answers.set('/flaky', [500, 503]);
    const counted: [string, string, NoticeResult][] = [];
    const send = sender({ agents: [], notifications: { flaky: { url: `${base}/flaky` } } }, counted);
    send.send(runbook, [notice('RunFailed')]);
    await send.settled();
    expect(counted).to.deep.equal([['flaky', 'RunFailed', 'sent']]);
  });

  it('gives up after its attempts and counts it failed; never sends to a receiver that did not ask', async () => {
    answers.set('/down', [500, 500, 500]);
    const counted: [string, string, NoticeResult][] = [];
    const send = sender(
      {
        agents: [],
        notifications: {
          down: { url: `${base}/down` },
          gates: { url: `${base}/gates`, events: ['GateWaiting'] },
          other: { url: `${base}/other`, namespaces: ['elsewhere'] },
        },
      },
      counted,
    );
    send.send(runbook, [notice('RunFailed')]);
    await send.settled();
    expect(counted).to.deep.equal([['down', 'RunFailed', 'failed']]);
  });

  it('drops the oldest delivery when its queue is full, counting it, and never waits for a receiver', async () => {
    const counted: [string, string, NoticeResult][] = [];
    const send = sender({ agents: [], notifications: { r: { url: `${base}/r` } } }, counted, 2);
    bodies.length = 0;
    send.send(runbook, ['n1', 'n2', 'n3', 'n4', 'n5'].map(notice));
    await send.settled();
    expect(counted.filter(([, , result]) => result === 'dropped')).to.have.length(3);
    expect(counted.filter(([, , result]) => result === 'sent')).to.have.length(2);
    // The newest are kept.
    expect(bodies.map((body) => (JSON.parse(body) as { notice: string }).notice).sort()).to.deep.equal([
      'n4',
      'n5',
    ]);
  });
});
