import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { ControlPlane } from '../../hack/local-cluster/control-plane.js';
import { sharedControlPlane } from '../support/shared-control-plane.js';
import { kubectl } from '../../hack/local-cluster/tools.js';
import { freePort, isAddressInUse } from '../../hack/local-cluster/ports.js';

function listen(port = 0): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(port, '127.0.0.1', () => {
      resolve(server);
    });
  });
}

describe('the test control plane', function () {
  this.timeout(120_000);

  it('runs with RBAC on: a ServiceAccount without a role is forbidden, cluster-admin is not', async () => {
    const plane = await sharedControlPlane();
    const admin = (...args: string[]) => kubectl(plane.adminKubeconfigPath, args);
    expect((await admin('create', 'serviceaccount', 'nobody', '-n', 'default')).code).to.equal(0);
    const token = await admin('create', 'token', 'nobody', '-n', 'default');
    expect(token.code, token.stderr).to.equal(0);
    const asNobody = plane.kubeconfigForToken('nobody', token.stdout.trim());
    const whoami = await kubectl(asNobody, ['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']);
    expect(whoami.stdout).to.equal('system:serviceaccount:default:nobody');
    const denied = await kubectl(asNobody, ['get', 'jobs', '-n', 'default']);
    expect(denied.code).to.not.equal(0);
    expect(denied.stderr).to.contain('forbidden');
    expect((await admin('get', 'jobs', '-n', 'default')).code).to.equal(0);
  });

  it('stops every process and removes its directory', async () => {
    const plane = await ControlPlane.start();
    expect(plane.running).to.equal(true);
    const port = Number(new URL(plane.server).port);
    await plane.stop();
    expect(plane.running).to.equal(false);
    expect(existsSync(plane.dir)).to.equal(false);
    // The API server's port is free again.
    const server = await listen(port);
    server.close();
  });

  it('gives out ports no outgoing connection can take first (below the ephemeral range), and free', async () => {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    for (const port of ports) {
      expect(port, `port ${port}`).to.be.below(Number(low));
      const server = await listen(port);
      server.close();
    }
    // Never the same port twice, though each is still free until its user binds it: a thousand
    // draws from the range would repeat one almost surely.
    const drawn: number[] = [];
    for (let index = 0; index < 1000; index += 1) drawn.push(await freePort());
    expect(new Set(drawn).size).to.equal(drawn.length);
    expect(isAddressInUse(new Error('listen tcp 127.0.0.1:1: bind: address already in use'))).to.equal(true);
    expect(isAddressInUse(new Error('exited with code 1'))).to.equal(false);
  });

  it('says which binary, which port and what its log said when it cannot start, and cleans up', async () => {
    const occupied = await listen();
    const address = occupied.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    // A private parent directory, so other control planes on this machine cannot confuse the check.
    const tmpRoot = mkdtempSync(join(tmpdir(), 'control-plane-test-'));
    try {
      const failure = await ControlPlane.start({ apiServerPort: port, tmpRoot }).then(
        () => new Error('the control plane started on an occupied port'),
        (error: unknown) => error,
      );
      expect(failure).to.be.instanceOf(Error);
      const message = (failure as Error).message;
      expect(message).to.contain('kube-apiserver');
      expect(message).to.contain(`port ${port}`);
      expect(message).to.contain('last lines of its log');
      expect(message).to.match(/address already in use/);
      expect(readdirSync(tmpRoot)).to.deep.equal([]);
    } finally {
      occupied.close();
      rmSync(tmpRoot, { recursive: true, force: true });
    }
  });
});
