import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { request as plainRequest } from 'node:http';
import { parse } from 'yaml';
import type { ControlPlane } from '../../hack/local-cluster/control-plane.js';
import { kubectl } from '../../hack/local-cluster/tools.js';
import { buildConsole, CONSOLE_OUT } from '../../hack/build-console.js';
import { loadClusterAccess } from '../../src/kube/cluster-access.js';
import { startClusterConsole, startLocalConsole, type StartedConsole } from '../../src/console/start.js';
import { installOperator, testNamespace } from '../support/operator-harness.js';
import { sharedControlPlane } from '../support/shared-control-plane.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request to a console (its self-signed certificate is not checked: the test made it). */
function call(
  base: string,
  method: string,
  path: string,
  { headers = {}, body }: { headers?: Record<string, string>; body?: string } = {},
  until?: string,
): Promise<Answer> {
  const url = new URL(path, base);
  const send = url.protocol === 'https:' ? request : plainRequest;
  return new Promise((resolve, reject) => {
    const outgoing = send(url, { method, headers, rejectUnauthorized: false }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        text += chunk;
        // A stream never ends by itself: it is read until `until` comes.
        if (until !== undefined && text.includes(until)) {
          response.destroy();
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text });
        }
      });
      response.on('end', () => {
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text });
      });
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

const messageOf = (answer: Answer) => (JSON.parse(answer.body) as { message?: string }).message ?? '';

const cookieOf = (answer: Answer, name: string) =>
  ([answer.headers['set-cookie'] ?? []].flat().find((line) => line.startsWith(`${name}=`)) ?? '').split(
    ';',
  )[0] ?? '';

describe('the console in the cluster and on 127.0.0.1: whose identity, TLS, CSRF, hosts', function () {
  this.timeout(120_000);
  let plane: ControlPlane;
  let namespace = '';
  let token = '';
  let cluster: StartedConsole;
  let local: StartedConsole;
  const started: StartedConsole[] = [];

  before(async () => {
    plane = await sharedControlPlane();
    await installOperator(plane);
    namespace = await testNamespace(plane, 'console-access');
    const admin = async (...args: string[]) => {
      const result = await kubectl(plane.adminKubeconfigPath, args);
      expect(result.code, result.stderr).to.equal(0);
      return result.stdout;
    };
    await admin('create', 'serviceaccount', 'viewer', '-n', namespace);
    await admin(
      'create',
      'role',
      'runbooks-only',
      '-n',
      namespace,
      '--verb=get,list,watch',
      '--resource=agentrunbooks.i2s.studio',
    );
    await admin(
      'create',
      'rolebinding',
      'runbooks-only',
      '-n',
      namespace,
      '--role=runbooks-only',
      `--serviceaccount=${namespace}:viewer`,
    );
    token = (await admin('create', 'token', 'viewer', '-n', namespace)).trim();
    await buildConsole();
    const kubeconfig = parse(readFileSync(plane.adminKubeconfigPath, 'utf8')) as {
      clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
    };
    const { server, 'certificate-authority-data': ca } = kubeconfig.clusters[0]?.cluster ?? {
      server: '',
      'certificate-authority-data': '',
    };
    cluster = await startClusterConsole({
      port: 0,
      address: '127.0.0.1',
      apiServer: server,
      apiCa: Buffer.from(ca, 'base64'),
      assets: CONSOLE_OUT,
    });
    started.push(cluster);
    local = await startLocalConsole(await loadClusterAccess(plane.adminKubeconfigPath), {
      port: 0,
      assets: CONSOLE_OUT,
    });
    started.push(local);
  });

  after(async () => {
    await Promise.all(started.map((each) => each.server.close()));
  });

  it('serves its page over TLS with a strict Content-Security-Policy and no inline script', async () => {
    expect(cluster.url).to.match(/^https:/);
    const page = await call(cluster.url, 'GET', '/');
    expect(page.status).to.equal(200);
    expect(page.headers['content-security-policy'])
      .to.contain("script-src 'self'")
      .and.contain("default-src 'none'");
    expect(page.headers['strict-transport-security']).to.match(/max-age=/);
    expect(page.body).to.match(/<script type="module" src="\/app.js"><\/script>/);
    expect(page.body.match(/<script/g)).to.have.length(1);
  });

  it('lets nobody in without an identity, and acts with the token a viewer signs in with', async () => {
    const session = await call(cluster.url, 'GET', '/api/session');
    expect(JSON.parse(session.body)).to.include({ mode: 'cluster', signedIn: false });
    const csrf = cookieOf(session, 'arb_csrf');
    expect(csrf).to.match(/^arb_csrf=.{20,}/);
    const csrfToken = csrf.slice('arb_csrf='.length);
    expect((await call(cluster.url, 'GET', `/api/live/runbooks?namespace=${namespace}`)).status).to.equal(
      401,
    );

    const json = { 'Content-Type': 'application/json', Cookie: csrf, 'X-CSRF-Token': csrfToken };
    const noCsrf = await call(cluster.url, 'POST', '/api/login', {
      headers: { 'Content-Type': 'application/json', Cookie: csrf },
      body: JSON.stringify({ token }),
    });
    expect(noCsrf.status).to.equal(403);
    const badToken = await call(cluster.url, 'POST', '/api/login', {
      headers: json,
      body: JSON.stringify({ token: 'not-a-token' }),
    });
    expect(badToken.status).to.equal(401);
    expect(JSON.parse(badToken.body)).to.have.property('message', 'the API server did not accept that token');

    const login = await call(cluster.url, 'POST', '/api/login', {
      headers: json,
      body: JSON.stringify({ token }),
    });
    expect(login.status, login.body).to.equal(200);
    expect(JSON.parse(login.body)).to.have.property('user', `system:serviceaccount:${namespace}:viewer`);
    const line =
      [login.headers['set-cookie'] ?? []].flat().find((value) => value.startsWith('arb_session=')) ?? '';
    expect(line).to.contain('HttpOnly').and.contain('Secure').and.contain('SameSite=Strict');
    const session2 = cookieOf(login, 'arb_session');
    // The cookie is sealed: the token is not in it, in any encoding a reader could undo.
    expect(session2).to.not.contain(token.slice(0, 40));
    expect(Buffer.from(session2.slice('arb_session='.length), 'base64url').toString('latin1')).to.not.contain(
      token.slice(0, 40),
    );

    // With the session, the viewer's own rights apply: runbooks yes, templates no (as kubectl would say).
    const cookies = `${csrf}; ${session2}`;
    const stream = await call(
      cluster.url,
      'GET',
      `/api/live/runbooks?namespace=${namespace}`,
      { headers: { Cookie: cookies } },
      // Just after the CRD was installed the API server may answer "storage is (re)initializing"
      // first; the console retries, as kubectl would be retried.
      'event: snapshot',
    );
    expect(stream.status).to.equal(200);
    expect(stream.headers['content-type']).to.contain('text/event-stream');
    expect(stream.body, stream.body).to.contain('event: snapshot\ndata: []');
    const templates = await call(cluster.url, 'GET', `/api/templates?namespace=${namespace}`, {
      headers: { Cookie: cookies },
    });
    expect(templates.status).to.equal(403);
    expect(messageOf(templates)).to.contain(
      `User "system:serviceaccount:${namespace}:viewer" cannot list resource`,
    );

    // An authenticating proxy's Authorization header works the same, and a forged cookie is nobody.
    const proxied = await call(cluster.url, 'GET', `/api/templates?namespace=${namespace}`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(messageOf(proxied)).to.contain(`system:serviceaccount:${namespace}:viewer`);
    const forged = `arb_session=${Buffer.from(`{"token":"${token}","expires":9999999999999}`).toString('base64url')}`;
    expect(
      (
        await call(cluster.url, 'GET', `/api/templates?namespace=${namespace}`, {
          headers: { Cookie: forged },
        })
      ).status,
    ).to.equal(401);

    // A write from another origin is refused before it reaches the API server.
    const crossSite = await call(cluster.url, 'POST', '/api/action', {
      headers: { ...json, Cookie: cookies, Origin: 'https://evil.example' },
      body: JSON.stringify({ namespace, name: 'x', action: 'cancel' }),
    });
    expect(crossSite.status).to.equal(403);
    expect(messageOf(crossSite)).to.contain("only from the console's own pages");
  });

  it('locally, answers only to its own host name (no DNS rebinding) and takes only JSON writes with the CSRF token', async () => {
    const port = new URL(local.url).port;
    expect(local.url).to.equal(`http://127.0.0.1:${port}/`);
    const rebound = await call(local.url, 'GET', '/api/session', {
      headers: { Host: `evil.example:${port}` },
    });
    expect(rebound.status).to.equal(421);
    const session = await call(local.url, 'GET', '/api/session');
    expect(JSON.parse(session.body)).to.include({ mode: 'local', signedIn: true });
    const csrf = cookieOf(session, 'arb_csrf');
    const form = await call(local.url, 'POST', '/api/action', {
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        Cookie: csrf,
        'X-CSRF-Token': csrf.slice('arb_csrf='.length),
      },
      body: 'action=cancel',
    });
    expect(form.status).to.equal(403);
    const wrongToken = await call(local.url, 'POST', '/api/action', {
      headers: { 'Content-Type': 'application/json', Cookie: csrf, 'X-CSRF-Token': 'guessed' },
      body: JSON.stringify({ namespace, name: 'x', action: 'cancel' }),
    });
    expect(wrongToken.status).to.equal(403);
    const missing = await call(local.url, 'POST', '/api/action', {
      headers: {
        'Content-Type': 'application/json',
        Cookie: csrf,
        'X-CSRF-Token': csrf.slice('arb_csrf='.length),
      },
      body: JSON.stringify({ namespace, name: 'nothing-here', action: 'cancel' }),
    });
    expect(missing.status).to.equal(404);
    expect(messageOf(missing)).to.contain(`agentrunbook nothing-here not found in namespace ${namespace}`);
  });
});
