import { expect } from 'chai';
import { placeOf, summarize } from '../../../bench/profile-summary.js';

describe('the bench’s CPU profile summary', () => {
  it('names where code lives: a package, an operator file, Node, V8', () => {
    expect(placeOf('file:///app/node_modules/@marcbachmann/cel-js/lib/evaluator.js', 'evaluate')).to.equal(
      '@marcbachmann/cel-js',
    );
    expect(placeOf('file:///app/node_modules/yaml/dist/index.js', 'parse')).to.equal('yaml');
    expect(placeOf('file:///app/dist/engine/run/decide.js', 'decide')).to.equal(
      'operator: engine/run/decide.js',
    );
    expect(placeOf('node:internal/streams/readable', 'push')).to.equal('node: internals');
    expect(placeOf('', '(garbage collector)')).to.equal('(garbage collector)');
    expect(placeOf('', 'JSONParse')).to.equal('(native)');
  });

  it('sums self time by place and by function, idle left out, most first', () => {
    const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 9 });
    const summary = summarize({
      nodes: [
        { id: 1, callFrame: frame('(idle)', '') },
        { id: 2, callFrame: frame('decide', 'file:///app/dist/engine/run/decide.js') },
        { id: 3, callFrame: frame('(garbage collector)', '') },
        { id: 4, callFrame: frame('plan', 'file:///app/dist/engine/run/decide.js') },
      ],
      samples: [1, 2, 3, 2, 4, 1],
      timeDeltas: [5000, 1000, 500, 1000, 500, 9000],
    });
    expect(summary.totalMs).to.equal(3);
    expect(summary.places).to.deep.equal([
      { name: 'operator: engine/run/decide.js', ms: 2.5, percent: 83.3 },
      { name: '(garbage collector)', ms: 0.5, percent: 16.7 },
    ]);
    expect(summary.functions[0]).to.deep.equal({
      name: 'decide operator: engine/run/decide.js:10',
      ms: 2,
      percent: 66.7,
    });
  });
});
