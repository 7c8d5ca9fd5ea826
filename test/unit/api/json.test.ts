import { expect } from 'chai';
import fc from 'fast-check';
import { sameJson } from '../../../src/api/json.js';

/** What the reconciler compared before: both sides through a JSON round trip. */
const roundTrip = (value: unknown): unknown => JSON.parse(JSON.stringify(value ?? null)) as unknown;
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, item: unknown) =>
    item && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => a.localeCompare(b)))
      : item,
  );

describe('sameJson', () => {
  it('ignores key order and undefined properties, and sees every other difference', () => {
    expect(sameJson({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 })).to.equal(true);
    expect(sameJson({ a: 1, gone: undefined }, { a: 1 })).to.equal(true);
    expect(sameJson({ a: 1 }, { a: '1' })).to.equal(false);
    expect(sameJson({ a: [1, 2] }, { a: [2, 1] })).to.equal(false);
    expect(sameJson({ a: null }, { a: undefined })).to.equal(false);
    expect(sameJson({ a: {} }, { a: [] })).to.equal(false);
  });

  it('agrees with comparing the JSON both sides serialize to', () => {
    const json = fc.jsonValue({ maxDepth: 4 });
    fc.assert(
      fc.property(json, json, (a, b) => {
        expect(sameJson(a, b)).to.equal(canonical(roundTrip(a)) === canonical(roundTrip(b)));
        expect(sameJson(a, structuredClone(a))).to.equal(true);
      }),
      { numRuns: 500 },
    );
  });
});
