import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { expect } from 'chai';
import { KubeHttp } from '../../../src/kube/http.js';
import { CertificateAuthority } from '../../../src/webhook/pki.js';

describe('KubeHttp connections', () => {
  let server: Server;
  let handshakes = 0;
  let http: KubeHttp;

  before(async () => {
    const ca = await CertificateAuthority.create('test-ca');
    const tls = await ca.issue({
      commonName: 'localhost',
      usage: 'server',
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
    });
    server = createServer({ cert: tls.certificate, key: tls.privateKey }, (req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ path: req.url }));
    });
    server.on('secureConnection', () => {
      handshakes += 1;
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [
        {
          name: 'c',
          server: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
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
});
