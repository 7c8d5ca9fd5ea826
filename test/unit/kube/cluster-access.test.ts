import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AgentOptions, RequestOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadClusterAccess } from '../../../src/kube/cluster-access.js';

function kubeconfig(
  dir: string,
  user: Record<string, unknown>,
  cluster: Record<string, unknown> = {},
): string {
  const path = join(dir, `config-${Math.random().toString(36).slice(2)}`);
  writeFileSync(
    path,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'ctx',
      contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }],
      clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:6443', ...cluster } }],
      users: [{ name: 'u', user }],
    }),
  );
  return path;
}

async function applied(path: string): Promise<RequestOptions & AgentOptions> {
  const access = await loadClusterAccess(path);
  const options: RequestOptions & AgentOptions = { headers: { Accept: 'application/json' } };
  await access.applyTo(options);
  return options;
}

describe('reading a kubeconfig without client-node', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cluster-access-'));

  it('uses the CA and client certificate given as data', async () => {
    const options = await applied(
      kubeconfig(
        dir,
        {
          'client-certificate-data': Buffer.from('CERT').toString('base64'),
          'client-key-data': Buffer.from('KEY').toString('base64'),
        },
        { 'certificate-authority-data': Buffer.from('CA').toString('base64') },
      ),
    );
    expect(options.ca).to.deep.equal(Buffer.from('CA'));
    expect(options.cert).to.deep.equal(Buffer.from('CERT'));
    expect(options.key).to.deep.equal(Buffer.from('KEY'));
  });

  it('reads files relative to the kubeconfig, and a bearer token from tokenFile', async () => {
    writeFileSync(join(dir, 'ca.crt'), 'FILE-CA');
    writeFileSync(join(dir, 'token'), 'secret-token\n');
    const options = await applied(
      kubeconfig(
        dir,
        { tokenFile: join(dir, 'token') },
        { 'certificate-authority': 'ca.crt', 'tls-server-name': 'api' },
      ),
    );
    expect(options.ca).to.deep.equal(Buffer.from('FILE-CA'));
    expect(options.servername).to.equal('api');
    expect(options.headers).to.deep.equal({
      Accept: 'application/json',
      Authorization: 'Bearer secret-token',
    });
  });

  it('hands a user with an exec plugin to client-node', async () => {
    const access = await loadClusterAccess(
      kubeconfig(dir, { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'true' } }),
    );
    expect(access.server).to.equal('https://127.0.0.1:6443');
  });

  it('says which kubeconfig it could not read', async () => {
    const missing = join(dir, 'nope');
    let error: Error | undefined;
    await loadClusterAccess(missing).catch((e: unknown) => (error = e as Error));
    expect(error?.message).to.include(`could not load the kubeconfig ${missing}`);
  });

  it('takes another context with --context, and the namespace a context names', async () => {
    const path = join(dir, 'two-contexts');
    writeFileSync(
      path,
      stringify({
        'current-context': 'first',
        contexts: [
          { name: 'first', context: { cluster: 'one', user: 'u' } },
          { name: 'second', context: { cluster: 'two', user: 'u', namespace: 'team-b' } },
        ],
        clusters: [
          { name: 'one', cluster: { server: 'https://one:6443' } },
          { name: 'two', cluster: { server: 'https://two:6443' } },
        ],
        users: [{ name: 'u', user: { token: 't' } }],
      }),
    );
    const current = await loadClusterAccess(path);
    expect(current.server).to.equal('https://one:6443');
    expect(current.namespace).to.equal(undefined);
    const second = await loadClusterAccess(path, 'second');
    expect({ server: second.server, namespace: second.namespace }).to.deep.equal({
      server: 'https://two:6443',
      namespace: 'team-b',
    });
    await loadClusterAccess(path, 'third').then(
      () => expect.fail('a context the kubeconfig lacks'),
      (error: unknown) => expect((error as Error).message).to.contain('has no context third'),
    );
  });
});
