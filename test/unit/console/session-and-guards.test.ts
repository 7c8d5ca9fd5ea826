import { expect } from 'chai';
import type { IncomingMessage } from 'node:http';
import { hostProblem, writeProblem } from '../../../src/console/guards.js';
import { refusal } from '../../../src/console/event-stream.js';
import { SESSION_SECONDS, SessionSealer } from '../../../src/console/session.js';

const request = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

describe('the console: sealed sessions, CSRF and host checks', () => {
  const sealer = SessionSealer.random();

  it('opens only what it sealed, before it expires', () => {
    const now = Date.parse('2026-12-06T00:00:00Z');
    const sealed = sealer.seal('token-abc', now);
    expect(sealer.open(sealed, now + 1000)).to.equal('token-abc');
    expect(sealer.open(sealed, now + SESSION_SECONDS * 1000 + 1)).to.equal(undefined);
    expect(SessionSealer.random().open(sealed, now)).to.equal(undefined);
    const flipped = Buffer.from(sealed, 'base64url');
    flipped[flipped.length - 1] = (flipped[flipped.length - 1] ?? 0) ^ 1;
    expect(sealer.open(flipped.toString('base64url'), now)).to.equal(undefined);
    expect(sealer.open('', now)).to.equal(undefined);
    expect(sealer.open('x'.repeat(40_000), now)).to.equal(undefined);
    expect(Buffer.from(sealed, 'base64url').toString('latin1')).to.not.contain('token-abc');
  });

  it('refuses a Host it does not serve, and serves any when none is listed', () => {
    const hosts = new Set(['127.0.0.1:8420']);
    expect(hostProblem(request({ host: '127.0.0.1:8420' }), hosts)).to.equal(undefined);
    expect(hostProblem(request({ host: 'attacker.example:8420' }), hosts)).to.contain('attacker.example');
    expect(hostProblem(request({}), hosts)).to.be.a('string');
    expect(hostProblem(request({ host: 'anything' }), new Set())).to.equal(undefined);
  });

  it('takes a write only from its own origin, as JSON, with the CSRF cookie echoed', () => {
    const origin = (host: string) => `http://${host}`;
    const good = {
      host: '127.0.0.1:8420',
      origin: 'http://127.0.0.1:8420',
      'content-type': 'application/json',
      cookie: 'arb_csrf=abc123; other=1',
      'x-csrf-token': 'abc123',
    };
    expect(writeProblem(request(good), origin)).to.equal(undefined);
    expect(writeProblem(request({ ...good, origin: 'http://evil.example' }), origin)).to.contain('own pages');
    expect(writeProblem(request({ ...good, 'sec-fetch-site': 'cross-site' }), origin)).to.contain(
      'own pages',
    );
    expect(writeProblem(request({ ...good, 'content-type': 'text/plain' }), origin)).to.contain('JSON');
    expect(writeProblem(request({ ...good, 'x-csrf-token': 'abc124' }), origin)).to.contain('CSRF');
    expect(writeProblem(request({ ...good, cookie: '' }), origin)).to.contain('CSRF');
  });

  it("shows the API server's words without the request line", () => {
    expect(refusal(new Error('POST /apis/x/y: 403 user mallory may not decide gates'))).to.equal(
      'user mallory may not decide gates',
    );
    expect(refusal(new Error('agentrunbook a not found'))).to.equal('agentrunbook a not found');
  });
});
