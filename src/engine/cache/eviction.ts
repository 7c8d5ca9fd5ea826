/**
 * Which stored results of one namespace go now: those expired, those a newer result of the same
 * key replaced, then the oldest while the namespace holds more results or bytes than it may.
 */
import { compareText } from '../../api/text.js';

export interface StoredEntry {
  name: string;
  key: string;
  /** When its stage succeeded (spec.origin.time), in ms. */
  storedAt: number;
  expiresAt: number;
  bytes: number;
}

export type EvictionReason = 'expired' | 'replaced' | 'over-count' | 'over-bytes';

export interface Limits {
  maxEntriesPerNamespace: number;
  maxBytesPerNamespace: number;
}

export function resultsToRemove(
  entries: readonly StoredEntry[],
  limits: Limits,
  now: number,
): { name: string; reason: EvictionReason }[] {
  const removed: { name: string; reason: EvictionReason }[] = [];
  const newestFirst = [...entries].sort((a, b) => b.storedAt - a.storedAt || compareText(a.name, b.name));
  const keys = new Set<string>();
  const kept: StoredEntry[] = [];
  for (const entry of newestFirst) {
    if (entry.expiresAt <= now) removed.push({ name: entry.name, reason: 'expired' });
    else if (keys.has(entry.key)) removed.push({ name: entry.name, reason: 'replaced' });
    else {
      keys.add(entry.key);
      kept.push(entry);
    }
  }
  let bytes = kept.reduce((sum, entry) => sum + entry.bytes, 0);
  let count = kept.length;
  // Oldest first out.
  for (const entry of kept.reverse()) {
    const overCount = count > limits.maxEntriesPerNamespace;
    if (!overCount && bytes <= limits.maxBytesPerNamespace) break;
    removed.push({ name: entry.name, reason: overCount ? 'over-count' : 'over-bytes' });
    count -= 1;
    bytes -= entry.bytes;
  }
  return removed;
}
