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

  it('does not even pass a line below its level through its streams, nor does a child logger', () => {
    const writes: string[] = [];
    const spied = (level: string) => {
      const log = createLogger(level);
      const write = log.write.bind(log);
      log.write = (info: { message: string }) => {
        writes.push(`${level}: ${info.message}`);
        return write(info);
      };
      return log;
    };
    const log = spied('info');
    const child = log.child({ runbook: 'n/r' });
    const verbose = spied('debug');
    const stderr = process.stderr.write.bind(process.stderr);
    process.stderr.write = () => true;
    try {
      log.debug('root below');
      child.debug('child below');
      child.warn('child above');
      log.error('root above');
      verbose.debug('at its level');
    } finally {
      process.stderr.write = stderr;
    }
    expect(writes).to.deep.equal(['info: child above', 'info: root above', 'debug: at its level']);
  });
});
