/**
 * What every answer of the console carries, and what a request must show before the console acts
 * on it: a Host it serves (a DNS-rebinding page names its own), and for a write an Origin of its
 * own, a JSON body and the CSRF token.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { csrfMatches } from './session.js';

/** No inline script or style, nothing from another origin, never framed. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export function securityHeaders(response: ServerResponse, tls: boolean): void {
  response.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  response.setHeader('X-Content-Type-Options', 'nosniff');
  response.setHeader('X-Frame-Options', 'DENY');
  response.setHeader('Referrer-Policy', 'no-referrer');
  response.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  response.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  if (tls) response.setHeader('Strict-Transport-Security', 'max-age=31536000');
}

/**
 * Why the request's Host is refused, or undefined. `hosts` empty accepts any (behind TLS a
 * rebinding page cannot present the console's certificate).
 */
export function hostProblem(request: IncomingMessage, hosts: ReadonlySet<string>): string | undefined {
  if (hosts.size === 0) return undefined;
  const host = (request.headers.host ?? '').toLowerCase();
  return hosts.has(host) ? undefined : `the console does not serve the host ${JSON.stringify(host)}`;
}

/** Why a write is refused, or undefined. */
export function writeProblem(request: IncomingMessage, origin: (host: string) => string): string | undefined {
  const given = request.headers.origin;
  if (given !== undefined && given !== origin(request.headers.host ?? ''))
    return `writes are taken only from the console's own pages (origin ${given})`;
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin')
    return `writes are taken only from the console's own pages`;
  if (!(request.headers['content-type'] ?? '').startsWith('application/json'))
    return 'a write is a JSON body (Content-Type: application/json)';
  if (!csrfMatches(request)) return 'the CSRF token is missing or wrong: reload the page';
  return undefined;
}
