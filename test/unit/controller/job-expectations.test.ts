import { expect } from 'chai';
import { JobExpectations } from '../../../src/controller/job-expectations.js';

describe('Job expectations (client-go’s, for the Jobs the operator creates)', () => {
  it('waits for a Job from its create until the informer shows it, or the expectation lapses', () => {
    const expectations = new JobExpectations(1000);
    expect(expectations.awaits('ns/a', 0)).to.equal(false);
    expectations.expect('ns/a', 0);
    expect(expectations.awaits('ns/a', 999)).to.equal(true);
    // Shown once: the first event is the one the operator waited for, a later one is not.
    expect(expectations.shown('ns/a')).to.equal(true);
    expect(expectations.shown('ns/a')).to.equal(false);
    expect(expectations.awaits('ns/a', 1)).to.equal(false);
    // A Job never shown (deleted first) may be created again once the expectation lapses.
    expectations.expect('ns/b', 0);
    expect(expectations.awaits('ns/b', 1000)).to.equal(false);
    expect(expectations.shown('ns/b')).to.equal(false);
  });

  it('forgets a Job whose create failed: it will not show up', () => {
    const expectations = new JobExpectations();
    expectations.expect('ns/a', 0);
    expectations.forget('ns/a');
    expect(expectations.awaits('ns/a', 1)).to.equal(false);
    expect(expectations.shown('ns/a')).to.equal(false);
  });
});
