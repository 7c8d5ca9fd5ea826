import { expect } from 'chai';
import { createLogger } from '../../../src/observability/logger.js';

describe('the logger', () => {
  it('does not format a line below its level (a debug line per reconcile costs nothing at info)', () => {
    const log = createLogger('info');
    let encoded = 0;
    const meta = {
      detail: {
        toJSON() {
          encoded += 1;
          return 'x';
        },
      },
    };
    const written: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = (chunk: string) => {
      written.push(chunk);
      return true;
    };
    try {
      log.debug('below', meta);
      expect(encoded).to.equal(0);
      log.warn('above', meta);
    } finally {
      process.stderr.write = write;
    }
    expect(encoded).to.equal(1);
    expect(written.join('')).to.include('"message":"above"').and.not.include('below');
  });
});
