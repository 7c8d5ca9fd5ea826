import { expect } from 'chai';
import { resultsToRemove, type StoredEntry } from '../../../../src/engine/cache/eviction.js';

const entry = (name: string, storedAt: number, extra: Partial<StoredEntry> = {}): StoredEntry => ({
  name,
  key: name,
  storedAt,
  expiresAt: storedAt + 1000,
  bytes: 10,
  ...extra,
});
const roomy = { maxEntriesPerNamespace: 100, maxBytesPerNamespace: 1_000_000 };

describe('stored result eviction', () => {
  it('removes expired results and those a newer result of the same key replaced', () => {
    const removed = resultsToRemove(
      [entry('old', 0), entry('a1', 500, { key: 'a' }), entry('a2', 600, { key: 'a' }), entry('b', 700)],
      roomy,
      1200,
    );
    expect(removed).to.deep.equal([
      { name: 'a1', reason: 'replaced' },
      { name: 'old', reason: 'expired' },
    ]);
  });

  it('over the count or the bytes, removes the oldest first until within both', () => {
    const entries = [entry('e1', 1), entry('e2', 2), entry('e3', 3), entry('e4', 4, { bytes: 50 })];
    expect(resultsToRemove(entries, { ...roomy, maxEntriesPerNamespace: 2 }, 0)).to.deep.equal([
      { name: 'e1', reason: 'over-count' },
      { name: 'e2', reason: 'over-count' },
    ]);
    // 80 bytes in all: the two oldest go to reach 60.
    expect(resultsToRemove(entries, { ...roomy, maxBytesPerNamespace: 60 }, 0)).to.deep.equal([
      { name: 'e1', reason: 'over-bytes' },
      { name: 'e2', reason: 'over-bytes' },
    ]);
    expect(resultsToRemove(entries, { ...roomy, maxBytesPerNamespace: 49 }, 0)).to.have.length(4);
    expect(resultsToRemove(entries, { ...roomy, maxEntriesPerNamespace: 0 }, 0)).to.have.length(4);
  });
});
