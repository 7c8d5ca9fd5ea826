import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { expect } from 'chai';
import { LOG_RETRY_MS, ReportLogs } from '../../../src/controller/report-logs.js';
import type { JobObservation } from '../../../src/engine/model/types.js';
import { KubeApiError, KubeHttp, UNREAD_ANSWER_ACCEPT } from '../../../src/kube/http.js';
import { CertificateAuthority } from '../../../src/webhook/pki.js';

describe('KubeHttp connections', () => {
  let server: Server;
  let handshakes = 0;
  let http: KubeHttp;
  let serverCa: CertificateAuthority;
  let serverUrl: string;
  /** The Accept header of each request, by path. */
  const accepts = new Map<string, string | undefined>();

  before(async () => {
    const ca = await CertificateAuthority.create('test-ca');
    serverCa = ca;
    const tls = await ca.issue({
      commonName: 'localhost',
      usage: 'server',
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
    });
    server = createServer({ cert: tls.certificate, key: tls.privateKey }, (req, res) => {
      accepts.set(req.url?.split('?')[0] ?? '', req.headers.accept);
      // A node that never answers, and one that starts a log and never ends it.
      if (req.url?.startsWith('/silent')) return;
      if (req.url?.startsWith('/api/v1/namespaces/n/pods/hanging/log')) {
        res.writeHead(200, { 'Content-Type': 'text/plain' }).write('agentrunbook.report 2 ');
        return;
      }
      if (req.url?.startsWith('/taken')) {
        res.writeHead(409, { 'Content-Type': 'application/json' }).end(
          JSON.stringify({
            kind: 'Status',
            reason: 'AlreadyExists',
            message: 'jobs "taken" already exists',
          }),
        );
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ path: req.url }));
    });
    server.on('secureConnection', () => {
      handshakes += 1;
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    serverUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [
        {
          name: 'c',
          server: serverUrl,
          caData: Buffer.from(ca.certificatePem).toString('base64'),
        },
      ],
      users: [{ name: 'u', token: 'secret' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    http = new KubeHttp(kc);
  });

  after(() => {
    http.close();
    server.closeAllConnections();
    server.close();
  });

  it('keeps one TLS connection alive across requests instead of a handshake per request', async () => {
    for (let index = 0; index < 5; index += 1) {
      expect(await http.request({ method: 'GET', path: `/api/v1/namespaces/n${index}` })).to.deep.equal({
        path: `/api/v1/namespaces/n${index}`,
      });
    }
    expect(handshakes).to.equal(1);
  });

  it('sends a write without reading its answer, and still fails with the status the server gave', async () => {
    const before = handshakes;
    await http.send({ method: 'POST', path: '/apis/batch/v1/namespaces/n/jobs', body: {} });
    // The answer was drained: the kept-alive connection serves the next request.
    expect(await http.request({ method: 'GET', path: '/after' })).to.deep.equal({ path: '/after' });
    expect(handshakes).to.equal(before);
    // The unread answer is asked for as metadata only; a read one whole.
    expect(accepts.get('/apis/batch/v1/namespaces/n/jobs')).to.equal(UNREAD_ANSWER_ACCEPT);
    expect(UNREAD_ANSWER_ACCEPT).to.match(
      /^application\/json;as=PartialObjectMetadata;g=meta\.k8s\.io;v=v1,/,
    );
    expect(accepts.get('/after')).to.equal('application/json');
    let failure: unknown;
    try {
      await http.send({ method: 'POST', path: '/taken', body: {} });
    } catch (error) {
      failure = error;
    }
    expect(failure).to.be.instanceOf(KubeApiError);
    expect((failure as KubeApiError).statusCode).to.equal(409);
    expect((failure as KubeApiError).reason).to.equal('AlreadyExists');
    expect(String(failure)).to.contain('jobs "taken" already exists');
  });

  it('makes a new connection when the TLS material changes, and only then', async () => {
    const before = handshakes;
    const otherCa = await CertificateAuthority.create('other-ca');
    let bundle: Buffer | Buffer[] = Buffer.from(serverCa.certificatePem);
    const rotating = new KubeHttp({
      server: serverUrl,
      applyTo: (options) => {
        // New objects each time, as a kubeconfig read again gives them.
        Object.assign(options, {
          ca: Array.isArray(bundle) ? bundle.map((pem) => Buffer.from(pem)) : Buffer.from(bundle),
        });
        return Promise.resolve();
      },
    });
    try {
      for (let index = 0; index < 3; index += 1) await rotating.request({ method: 'GET', path: '/same' });
      expect(handshakes - before).to.equal(1);
      bundle = [Buffer.from(serverCa.certificatePem), Buffer.from(otherCa.certificatePem)];
      for (let index = 0; index < 3; index += 1) await rotating.request({ method: 'GET', path: '/rotated' });
      expect(handshakes - before).to.equal(2);
    } finally {
      rotating.close();
    }
  });

  it('gives up a stream at its deadline, whether the answer never starts or never ends', async () => {
    let failure: unknown;
    await http.stream('/silent', {}, 200).catch((error: unknown) => (failure = error));
    expect(String(failure)).to.contain('no whole answer within 200 ms');
    const hanging = await http.stream('/api/v1/namespaces/n/pods/hanging/log', {}, 200);
    failure = undefined;
    try {
      for await (const chunk of hanging) expect(String(chunk)).to.contain('agentrunbook.report');
    } catch (error) {
      failure = error;
    }
    expect(String(failure)).to.contain('no whole answer within 200 ms');
  });

  it('a report log that never ends fails the reconcile at the deadline, and the stage once the Job ended 5 minutes ago', async () => {
    const logs = new ReportLogs(http, 200);
    const endedAt = new Date('2026-01-01T00:00:00Z');
    const observation: JobObservation = {
      name: 'job',
      stage: 's',
      execution: 'g1',
      generation: 1,
      attempt: 1,
      state: 'succeeded',
      podTerminated: true,
      pod: 'hanging',
      completionTime: endedAt.toISOString(),
      terminationMessage: JSON.stringify({ reportInLog: { bytes: 2, sha256: 'a'.repeat(64) } }),
    };
    const after = (ms: number) => new Date(endedAt.getTime() + ms);
    let failure: unknown;
    await logs
      .attach('n', [observation], () => true, after(LOG_RETRY_MS - 1000))
      .catch((error: unknown) => (failure = error));
    expect(String(failure)).to.contain('no whole answer within 200 ms');
    const [given] = await logs.attach('n', [observation], () => true, after(LOG_RETRY_MS));
    expect(given?.reportLog).to.deep.equal({
      error:
        'still failing 5 minutes after the Job ended: GET /api/v1/namespaces/n/pods/hanging/log: no whole answer within 200 ms',
    });
    expect(await http.request({ method: 'GET', path: '/api/v1/namespaces/after' })).to.deep.equal({
      path: '/api/v1/namespaces/after',
    });
  });
});
