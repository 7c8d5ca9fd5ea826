import { expect } from 'chai';
import fc from 'fast-check';
import { compareText, eachGrapheme, graphemes } from '../../../src/api/text.js';

const segmented = (text: string) =>
  Array.from(new Intl.Segmenter('en', { granularity: 'grapheme' }).segment(text), (part) => part.segment);

describe('text', () => {
  it('splits text into graphemes as ICU does, ASCII or not, whole or one by one', () => {
    const samples = fc.oneof(
      fc.string({ unit: 'binary-ascii' }),
      fc.string({ unit: 'grapheme' }),
      fc.string({ unit: fc.constantFrom('a', '\r', '\n', '\t', 'é', 'e\u0301', '👍🏽', '🇫🇷', ' ') }),
    );
    fc.assert(
      fc.property(samples, (text) => {
        expect(graphemes(text)).to.deep.equal(segmented(text));
        expect([...eachGrapheme(text)]).to.deep.equal(segmented(text));
      }),
    );
  });

  it('counts an accented letter, an emoji and a CR LF once each', () => {
    expect(graphemes('e\u0301👍🏽\r\nok')).to.deep.equal(['e\u0301', '👍🏽', '\r\n', 'o', 'k']);
  });

  it('orders names by code unit, as kubectl does, whatever the locale', () => {
    expect(['b', 'B', 'a-b', 'a.b', 'ab', 'a10', 'a9', ''].sort(compareText)).to.deep.equal([
      '',
      'B',
      'a-b',
      'a.b',
      'a10',
      'a9',
      'ab',
      'b',
    ]);
    expect(compareText('x', 'x')).to.equal(0);
  });
});
