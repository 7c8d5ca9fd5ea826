/**
 * The console's cookies. A session carries a viewer's bearer token, sealed with AES-256-GCM under
 * a key only the console holds, so the browser keeps it (HttpOnly, never readable by script) but
 * cannot read or forge it. The CSRF token is a random value the page echoes in a header on every
 * write (double submit): a page of another origin can make the browser send the cookie, not read it.
 */
import { createCipheriv, createDecipheriv, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const SESSION_COOKIE = 'arb_session';
export const CSRF_COOKIE = 'arb_csrf';
export const CSRF_HEADER = 'x-csrf-token';
/** How long a signed-in session lasts; the token's own expiry may end it sooner. */
export const SESSION_SECONDS = 8 * 3600;

export function cookies(request: IncomingMessage): Map<string, string> {
  const found = new Map<string, string>();
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0) found.set(part.slice(0, at).trim(), part.slice(at + 1).trim());
  }
  return found;
}

export function cookie(
  name: string,
  value: string,
  { secure, httpOnly, maxAge }: { secure: boolean; httpOnly: boolean; maxAge?: number },
): string {
  return [
    `${name}=${value}`,
    'Path=/',
    'SameSite=Strict',
    ...(httpOnly ? ['HttpOnly'] : []),
    ...(secure ? ['Secure'] : []),
    ...(maxAge === undefined ? [] : [`Max-Age=${maxAge}`]),
  ].join('; ');
}

export class SessionSealer {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('the session key must be 32 bytes');
  }

  static random(): SessionSealer {
    return new SessionSealer(randomBytes(32));
  }

  seal(token: string, now = Date.now()): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const payload = JSON.stringify({ token, expires: now + SESSION_SECONDS * 1000 });
    const sealed = Buffer.concat([cipher.update(payload, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url');
  }

  /** The token a sealed value holds, or undefined when it is forged, damaged or expired. */
  open(value: string, now = Date.now()): string | undefined {
    const raw = Buffer.from(value, 'base64url');
    if (raw.length < 29 || raw.length > 16_384) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      const text = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
      const { token, expires } = JSON.parse(text) as { token?: unknown; expires?: unknown };
      if (typeof token !== 'string' || typeof expires !== 'number' || expires < now) return undefined;
      return token;
    } catch {
      return undefined;
    }
  }
}

export const newCsrfToken = () => randomBytes(24).toString('base64url');

/** Whether the request's CSRF header matches its CSRF cookie. */
export function csrfMatches(request: IncomingMessage): boolean {
  const expected = cookies(request).get(CSRF_COOKIE);
  const given = request.headers[CSRF_HEADER];
  if (!expected || typeof given !== 'string' || given.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(given), Buffer.from(expected));
}
