import { expect } from 'chai';
import fc from 'fast-check';
import { jobName, labelValue, executionId } from '../../../../src/engine/model/naming.js';
import { formatMicros, parseMicros, microsFromReport } from '../../../../src/api/grammar.js';

describe('Job names', () => {
  it('are valid DNS labels of at most 63 characters, whatever the runbook and stage are called', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 253 }),
        fc.string({ minLength: 1, maxLength: 63 }),
        fc.nat(),
        (runbook, stage, attempt) => {
          const name = jobName(runbook, stage, 'g1', attempt, 'uid');
          expect(name.length).to.be.at.most(63);
          expect(name).to.match(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
        },
      ),
    );
  });

  it('are the same for the same inputs and differ by attempt, execution and runbook uid', () => {
    const base = jobName('ai-task-manager', 'normalize', 'g1', 1, 'uid');
    expect(jobName('ai-task-manager', 'normalize', 'g1', 1, 'uid')).to.equal(base);
    expect(base).to.match(/^ai-task-manager-normalize-[0-9a-f]{10}$/);
    expect(jobName('ai-task-manager', 'normalize', 'g1', 2, 'uid')).to.not.equal(base);
    expect(jobName('ai-task-manager', 'normalize', 'g2', 1, 'uid')).to.not.equal(base);
    expect(jobName('ai-task-manager', 'normalize', 'g1', 1, 'other')).to.not.equal(base);
  });

  it('label values stay within 63 characters and execution ids change with the rerun value', () => {
    expect(labelValue('x'.repeat(100))).to.have.length.at.most(63);
    expect(executionId(3, undefined)).to.equal('g3');
    expect(executionId(3, 'a')).to.not.equal(executionId(3, 'b'));
  });
});

describe('money', () => {
  it('parses and formats decimal dollars exactly', () => {
    expect(parseMicros('10.00')).to.equal(10_000_000);
    expect(parseMicros('0.000125')).to.equal(125);
    expect(formatMicros(1_840_000)).to.equal('1.84');
    expect(formatMicros(125)).to.equal('0.000125');
    expect(formatMicros(10_000_000)).to.equal('10.00');
    expect(microsFromReport(0.1)).to.equal(100_000);
    expect(microsFromReport('abc')).to.equal(undefined);
  });

  it('sums 10,000 small costs without drift', () => {
    let total = 0;
    for (let i = 0; i < 10_000; i += 1) total += parseMicros('0.000123');
    expect(formatMicros(total)).to.equal('1.23');
  });
});
