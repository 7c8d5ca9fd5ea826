/**
 * Text as people read it (graphemes, so an emoji or an accented letter counts once) and names in
 * the order Kubernetes sorts them. Neither touches ICU's data for plain ASCII: its segmentation
 * and collation tables cost a process about 12 MB resident, and most text the operator sees is
 * ASCII.
 */

/** Text in which each character is a grapheme of its own (a CR could pair with a LF). */
const PLAIN_ASCII = /^[\t\n\x20-\x7e]*$/;

let segmenter: Intl.Segmenter | undefined;

/** ICU's grapheme segmentation, built the first time text other than plain ASCII comes. */
function segmented(text: string): Intl.Segments {
  segmenter ??= new Intl.Segmenter('en', { granularity: 'grapheme' });
  return segmenter.segment(text);
}

export function graphemes(text: string): string[] {
  if (PLAIN_ASCII.test(text)) return text.split('');
  return Array.from(segmented(text), (segment) => segment.segment);
}

/** `text`'s graphemes one by one, segmenting no further than the caller reads. */
export function* eachGrapheme(text: string): Generator<string> {
  if (PLAIN_ASCII.test(text)) {
    yield* text;
    return;
  }
  for (const { segment } of segmented(text)) yield segment;
}

/** Code-unit order, as Go and kubectl sort names: the same on every machine and locale. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
