import { expect } from 'chai';
import fc from 'fast-check';
import { cloneJson, sameJson, setOwn, type Json } from '../../../src/api/json.js';

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

describe('cloneJson and setOwn', () => {
  it('copies a JSON value deeply: the copy shares nothing with the original', () => {
    const original = { a: [1, { b: 'x' }], c: { d: null, e: true }, f: 2.5 };
    const copy = cloneJson(original);
    expect(copy).to.deep.equal(original);
    (copy.a[1] as { b: string }).b = 'changed';
    copy.c.e = false;
    expect(original).to.deep.equal({ a: [1, { b: 'x' }], c: { d: null, e: true }, f: 2.5 });
  });

  it('keeps a "__proto__" key as data, never as the prototype, and copies a frozen object', () => {
    const hostile = JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": 1}}') as Json;
    const copy = cloneJson(Object.freeze(hostile));
    expect(Object.getPrototypeOf(copy)).to.equal(Object.prototype);
    expect(Object.hasOwn(copy, '__proto__')).to.equal(true);
    expect((copy as { polluted?: boolean }).polluted).to.equal(undefined);
    expect(({} as { polluted?: boolean }).polluted).to.equal(undefined);
    expect(Object.keys(copy)).to.deep.equal(['__proto__', 'constructor']);
    const target: Json = {};
    setOwn(target, '__proto__', { polluted: true });
    setOwn(target, 'constructor', 'data');
    expect(Object.getPrototypeOf(target)).to.equal(Object.prototype);
    expect(Object.hasOwn(target, 'constructor')).to.equal(true);
  });
});
