import { Agent, request } from 'node:https';
import { expect } from 'chai';
import { silentLogger } from '../../../src/observability/logger.js';
import { CertificateAuthority } from '../../../src/webhook/pki.js';
import { WebhookServer } from '../../../src/webhook/server.js';
import { deepJsonText } from '../../support/hostile-input.js';

/** Specs the API server's schema would refuse, sent straight to the webhook port instead. */
const HOSTILE_SPECS: [string, unknown, string][] = [
  ['pipeline a string', { version: '1.0.0', agents: { pipeline: 'abc' } }, 'spec.agents.pipeline'],
  ['a null stage', { version: '1.0.0', agents: { pipeline: [null] } }, 'spec.agents.pipeline[0]'],
  [
    'dependsOn a number',
    { version: '1.0.0', agents: { pipeline: [{ name: 'a', dependsOn: 5 }] } },
    'dependsOn',
  ],
  [
    'gates a string',
    { version: '1.0.0', agents: { pipeline: [] }, quality: { gates: 'x' } },
    'spec.quality.gates',
  ],
  [
    'steps an object',
    { version: '1.0.0', agents: { pipeline: [] }, workflows: { main: { steps: {} } } },
    'steps',
  ],
  [
    'inputs nested 5,000 levels',
    { version: '1.0.0', agents: { pipeline: [{ name: 'a', config: { inputs: nested(5000) } }] } },
    'is nested deeper than 32 levels',
  ],
  [
    'parameters nested 5,000 levels',
    { version: '1.0.0', agents: { pipeline: [{ name: 'a', config: { parameters: nested(5000) } }] } },
    'spec.agents.pipeline[0].config.parameters',
  ],
  [
    '3,000 stages',
    { version: '1.0.0', agents: { pipeline: Array.from({ length: 3000 }, (_, i) => ({ name: `s${i}` })) } },
    'spec.agents.pipeline',
  ],
];

/** A placeholder that review() writes out as JSON nested `depth` levels (JSON.stringify itself would overflow). */
function nested(depth: number): string {
  return `NESTED:${depth}`;
}

function withNesting(json: string): string {
  return json.replace(/"NESTED:(\d+)"/g, (_, depth: string) => {
    return deepJsonText(Number(depth));
  });
}

/** POSTs a body to the server at `port` (kept alive through `agent` when given); its answer. */
function postTo(
  { port, ca, agent }: { port: number; ca: CertificateAuthority; agent?: Agent },
  path: string,
  body: string | Buffer,
) {
  return new Promise<{ status: number; body: string; connection: string | undefined }>((resolve, reject) => {
    const call = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        ca: ca.certificatePem,
        headers: { 'Content-Type': 'application/json' },
        ...(agent ? { agent } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString(),
            connection: res.headers.connection,
          });
        });
      },
    );
    call.on('error', reject);
    call.end(body);
  });
}

describe('the webhook server under hostile requests', function () {
  this.timeout(20_000);
  let server: WebhookServer;
  let port = 0;
  let ca: CertificateAuthority;

  const post = (path: string, body: string | Buffer) => postTo({ port, ca }, path, body);
  const review = (spec: unknown, extra: Record<string, unknown> = {}) =>
    withNesting(
      JSON.stringify({
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        request: { uid: 'u1', operation: 'CREATE', object: { spec }, ...extra },
      }),
    );

  before(async () => {
    ca = await CertificateAuthority.create('test-ca');
    const tls = await ca.issue({
      commonName: 'localhost',
      usage: 'server',
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
    });
    server = new WebhookServer(
      tls,
      silentLogger(),
      () => Promise.resolve({ allowed: false }),
      () => Promise.resolve(undefined),
    );
    port = await server.listen(0, '127.0.0.1');
  });

  after(async () => {
    await server.close();
  });

  for (const [what, spec, field] of HOSTILE_SPECS) {
    it(`refuses ${what} with a review naming ${field}, and keeps serving`, async () => {
      const answer = await post('/validate', review(spec));
      expect(answer.status).to.equal(200);
      const response = (
        JSON.parse(answer.body) as {
          response: { uid: string; allowed: boolean; status: { message: string } };
        }
      ).response;
      expect(response.uid).to.equal('u1');
      expect(response.allowed).to.equal(false);
      expect(response.status.message).to.contain(field);
    });
  }

  it('judges an UPDATE whose old object is malformed as a create', async () => {
    const answer = await post(
      '/validate',
      review(
        { version: '1.0.0', agents: { pipeline: [{ name: 'a' }] } },
        { operation: 'UPDATE', oldObject: { spec: { version: '0.9.0' } } },
      ),
    );
    expect((JSON.parse(answer.body) as { response: { allowed: boolean } }).response.allowed).to.equal(true);
  });

  it('answers a body over the limit with 413, then serves the next request', async () => {
    const answer = await post('/validate', Buffer.alloc(9 * 1024 * 1024, 0x20));
    expect(answer.status).to.equal(413);
    const next = await post('/validate', review({ version: '1.0.0', agents: { pipeline: [{ name: 'a' }] } }));
    expect(next.status).to.equal(200);
  });

  const GARBAGE: [string, string, string][] = [
    ['not JSON', 'not json', 'the body is not JSON'],
    ['a JSON array', '[1,2]', 'the body is not a JSON object'],
    [
      'a review of another kind',
      JSON.stringify({ apiVersion: 'v1', kind: 'Pod', request: { uid: 'u' } }),
      'expected a AdmissionReview of admission.k8s.io/v1, got kind "Pod"',
    ],
    [
      'a review without a uid',
      JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: {} }),
      'has no request.uid',
    ],
  ];
  for (const [what, body, message] of GARBAGE) {
    it(`answers ${what} with 400 and says why`, async () => {
      const answer = await post('/validate', body);
      expect(answer.status).to.equal(400);
      expect((JSON.parse(answer.body) as { message: string }).message).to.contain(message);
    });
  }

  it('answers a ConversionReview without a uid with 400 too', async () => {
    const answer = await post(
      '/convert',
      JSON.stringify({
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'ConversionReview',
        request: { objects: [] },
      }),
    );
    expect(answer.status).to.equal(400);
  });
});

describe('the webhook server stopping while the API server calls it', function () {
  this.timeout(20_000);
  let ca: CertificateAuthority;
  let server: WebhookServer;
  let port = 0;
  /** Called when a /decide review reads its runbook, with the function that answers the read. */
  let onRead: (answer: () => void) => void;

  beforeEach(async () => {
    onRead = (answer) => {
      answer();
    };
    ca = await CertificateAuthority.create('test-ca');
    const tls = await ca.issue({ commonName: 'localhost', usage: 'server', ipAddresses: ['127.0.0.1'] });
    server = new WebhookServer(
      tls,
      silentLogger(),
      () => Promise.resolve({ allowed: false }),
      () =>
        new Promise((resolve) => {
          onRead(() => {
            resolve(undefined);
          });
        }),
    );
    port = await server.listen(0, '127.0.0.1');
  });

  afterEach(async () => {
    await server.close();
  });

  /** A gate decision's review: the server reads its runbook (none here) and denies it, 404. */
  const decide = async (agent?: Agent) => {
    const body = JSON.stringify({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid: 'u1',
        operation: 'CREATE',
        namespace: 'ns',
        object: { spec: { runbook: 'rb', gate: 'g' } },
      },
    });
    const answer = await postTo({ port, ca, ...(agent ? { agent } : {}) }, '/decide', body);
    const review = JSON.parse(answer.body) as { response: { status: { code: number } } };
    return { status: answer.status, connection: answer.connection, code: review.response.status.code };
  };

  it('keeps connections alive until it drains, then closes each after its answer', async () => {
    const agent = new Agent({ keepAlive: true, ca: ca.certificatePem });
    try {
      expect((await decide(agent)).connection).to.equal('keep-alive');
      server.drain();
      const drained = await decide(agent);
      expect(drained).to.include({ status: 200, code: 404, connection: 'close' });
    } finally {
      agent.destroy();
    }
  });

  it('closing lets the answer under way finish, then takes no new connection', async () => {
    let closed: Promise<void> | undefined;
    onRead = (answer) => {
      // The review is under way: the server is told to close before it answers.
      closed = server.close();
      answer();
    };
    const answer = await decide();
    expect(answer).to.include({ status: 200, code: 404, connection: 'close' });
    await closed;
    const refused = await decide().then(
      () => undefined,
      (error: unknown) => (error as NodeJS.ErrnoException).code,
    );
    expect(refused).to.equal('ECONNREFUSED');
  });
});
