import { createHash } from 'node:crypto';

/** A short, stable hex digest of the parts (joined unambiguously). */
export function shortHash(parts: readonly (string | number)[], length = 10): string {
  return createHash('sha256')
    .update(parts.map((part) => `${String(part).length}:${String(part)}`).join('|'))
    .digest('hex')
    .slice(0, length);
}

/** sha256:<hex> of a text: cache keys and the digests of outputs. */
export const sha256 = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;
