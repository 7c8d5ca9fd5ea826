/**
 * Notices to people on a real control plane, received by an HTTP server the test runs: a plain
 * JSON webhook, a Slack-compatible one and a CloudEvents one, each for the events it asked for,
 * and none given twice across an operator restart.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { AgentCatalog } from '../../src/api/catalog.js';
import { RunbookEnv, runbook } from '../support/runbook-env.js';
import { eventually } from '../support/eventually.js';
import { succeed } from '../support/scripted-agents.js';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

const CATALOG: AgentCatalog = { agents: [{ name: 'a', image: 'registry.example/agents/a:1' }] };

describe('notices to people: gate waiting, failed, budget alert, cancelled (issue 25)', function () {
  this.timeout(180_000);
  const env = new RunbookEnv('notice', CATALOG);
  const received: Received[] = [];
  let server: Server;
  const to = (path: string) => received.filter((entry) => entry.path === path);

  before(async () => {
    server = createServer((request, response) => {
      let text = '';
      request.on('data', (chunk: Buffer) => (text += chunk.toString()));
      request.on('end', () => {
        received.push({
          path: request.url ?? '',
          headers: request.headers,
          body: JSON.parse(text) as Record<string, unknown>,
        });
        response.end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    CATALOG.notifications = {
      people: { url: `${base}/people` },
      chat: { url: `${base}/chat`, format: 'slack', events: ['RunFailed'] },
      events: { url: `${base}/events`, format: 'cloudevents', events: ['RunCancelled', 'BudgetAlert'] },
    };
    await env.start();
  });
  after(async () => {
    await env.stop();
    server.close();
  });

  it('tells of a gate that waits once, even across an operator restart, and of the cancel', async () => {
    env.script = () => succeed();
    await env.apply(
      runbook('gated', 'pipeline', [{ name: 'a' }], {
        quality: { gates: [{ name: 'review', required: true }] },
      }),
    );
    await eventually(() => Promise.resolve(expect(to('/people')).to.have.length(1)));
    const [waiting] = to('/people');
    expect(waiting?.body).to.deep.include({ event: 'GateWaiting', notice: 'GateWaiting/review' });
    expect(String(waiting?.body.message)).to.contain(`agentrunbook approve gated review -n ${env.namespace}`);
    expect((await env.status('gated')).notices?.map((notice) => notice.name)).to.deep.equal([
      'GateWaiting/review',
    ]);

    await env.stopOperator();
    await env.startOperator();
    const patched = await env.k(
      'patch',
      'arb',
      'gated',
      '--type=merge',
      '-p',
      '{"spec":{"status":"Cancelled"}}',
    );
    expect(patched.code, patched.stderr).to.equal(0);
    await env.waitPhase('gated', 'Cancelled');
    await eventually(() => Promise.resolve(expect(to('/events')).to.have.length(1)));
    const [cancelled] = to('/events');
    expect(cancelled?.headers).to.include({
      'ce-specversion': '1.0',
      'ce-type': 'studio.i2s.agentrunbook.RunCancelled',
      'ce-source': `/apis/i2s.studio/v2/namespaces/${env.namespace}/agentrunbooks/gated`,
      'content-type': 'application/json',
    });
    expect(cancelled?.body).to.deep.include({ event: 'RunCancelled' });
    // The restart decided nothing again: one GateWaiting, and the cancel told only to those who asked.
    expect(to('/people').map((entry) => entry.body.event)).to.deep.equal(['GateWaiting', 'RunCancelled']);
    expect(to('/chat')).to.deep.equal([]);
  });

  it('tells the Slack-compatible receiver of a failed run, and the CloudEvents one of the budget alert', async () => {
    env.script = () => ({
      phase: 'Failed',
      message: JSON.stringify({ error: { class: 'VALIDATION', message: 'bad idea' } }),
    });
    await env.apply(
      runbook('fails', 'pipeline', [{ name: 'a' }], { execution: { mode: 'pipeline', retries: 0 } }),
    );
    await env.waitPhase('fails', 'Failed');
    await eventually(() => Promise.resolve(expect(to('/chat')).to.have.length(1)));
    expect(String(to('/chat')[0]?.body.text)).to.match(
      new RegExp(`^AgentRunbook RunFailed: ${env.namespace}/fails ended Failed: `),
    );

    env.script = () => succeed({}, { tokens: 100, costUSD: '0.50' });
    await env.apply(
      runbook('spends', 'pipeline', [{ name: 'a' }], {
        budgets: { cost: { maxUSD: '10.00', alertThreshold: '0.10' } },
      }),
    );
    await env.waitPhase('spends', 'Succeeded');
    await eventually(() =>
      Promise.resolve(
        expect(to('/events').map((entry) => entry.headers['ce-type'])).to.include(
          'studio.i2s.agentrunbook.BudgetAlert',
        ),
      ),
    );
  });
});
