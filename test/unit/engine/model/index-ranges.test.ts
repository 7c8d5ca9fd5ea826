import { expect } from 'chai';
import fc from 'fast-check';
import { formatIndexes, parseIndexes, withIndex } from '../../../../src/engine/model/index-ranges.js';

describe("index ranges (a Job's completedIndexes format)", () => {
  it('writes ranges and reads them back', () => {
    expect(formatIndexes([7, 0, 1, 2, 3, 4, 9, 10])).to.equal('0-4,7,9-10');
    expect(parseIndexes('0-4,7,9-10')).to.deep.equal([0, 1, 2, 3, 4, 7, 9, 10]);
    expect(parseIndexes(undefined)).to.deep.equal([]);
    expect(parseIndexes('')).to.deep.equal([]);
  });

  it('adding indexes in any order gives the ranges of the set', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 200 }), { maxLength: 60 }), (indexes) => {
        const text = indexes.reduce<string | undefined>(
          (ranges, index) => withIndex(ranges, index),
          undefined,
        );
        expect(text ?? '').to.equal(formatIndexes(indexes));
      }),
    );
  });
});
