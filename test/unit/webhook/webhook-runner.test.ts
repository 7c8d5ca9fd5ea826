import { expect } from 'chai';
import { setTimeout as delay } from 'node:timers/promises';
import { KubeHttp } from '../../../src/kube/http.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { WebhookRunner } from '../../../src/webhook/webhook-runner.js';

describe('WebhookRunner', () => {
  it('stops at once when it never started: the shutdown delay is for callers that do not exist', async () => {
    // Nothing listens there: a runner that tried to reach the API server would fail, not wait.
    const http = new KubeHttp({ server: 'https://127.0.0.1:1', applyTo: () => Promise.resolve() });
    const runner = new WebhookRunner(
      http,
      {
        port: 0,
        namespace: 'agentrunbook-system',
        secretName: 'webhook-tls',
        dnsNames: ['webhook.agentrunbook-system.svc'],
        shutdownDelayMs: 600_000,
      },
      silentLogger(),
    );
    try {
      const first = await Promise.race([
        runner.stop().then(() => 'stopped'),
        delay(5_000).then(() => 'still waiting'),
      ]);
      expect(first).to.equal('stopped');
      expect(runner.serving).to.equal(false);
    } finally {
      http.close();
    }
  });
});
