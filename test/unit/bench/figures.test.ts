import { expect } from 'chai';
import {
  bedsOf,
  breakdown,
  figure,
  gained,
  histogramQuantile,
  auditedTimes,
  percentile,
  requestsOf,
  samples,
  storedCounts,
  table,
  total,
} from '../../../bench/figures.js';

const OPERATOR = 'system:serviceaccount:agentrunbook-system:agentrunbook-operator';

/** One audit log line, as the API server writes it (level Metadata). */
const audit = (user: string, verb: string, resource?: string, subresource?: string, code = 200) =>
  JSON.stringify({
    kind: 'Event',
    stage: 'ResponseComplete',
    verb,
    user: { username: user, groups: ['system:serviceaccounts'] },
    ...(resource ? { objectRef: { resource, ...(subresource ? { subresource } : {}) } } : {}),
    responseStatus: { code },
  });

describe('the bench’s figures', () => {
  it('takes the nearest-rank percentile, and NaN of nothing', () => {
    const samples = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(samples, 50)).to.equal(50);
    expect(percentile(samples, 99)).to.equal(99);
    expect(percentile([7], 99)).to.equal(7);
    expect(percentile([], 50)).to.be.NaN;
  });

  it('counts the operator’s requests from the audit log: not watches, not another user’s', () => {
    const log = [
      audit(OPERATOR, 'create', 'jobs'),
      audit(OPERATOR, 'update', 'agentrunbooks', 'status'),
      audit(OPERATOR, 'update', 'agentrunbooks', 'status', 409),
      audit(OPERATOR, 'create', 'controllerrevisions', undefined, 409),
      audit(OPERATOR, 'watch', 'pods'),
      audit(OPERATOR, 'list', 'pods'),
      audit(OPERATOR, 'get'),
      audit(`${OPERATOR}-other`, 'create', 'jobs'),
      audit('system:admin', 'create', 'jobs'),
      '',
    ].join('\n');
    const requests = requestsOf(log, OPERATOR);
    expect(requests.all).to.equal(6);
    expect(requests.writes).to.equal(4);
    expect(requests.conflicts, 'a create meeting 409 is not a conflict').to.equal(1);
    expect(breakdown(requests.by, 2)).to.equal(
      'update agentrunbooks/status 1.00, create jobs 0.50, create controllerrevisions 0.50, list pods 0.50, get (non-resource) 0.50',
    );
  });

  it('reads when the API server received and answered the requests of one verb, resource and user that succeeded', () => {
    const entry = (
      user: string,
      name: string,
      code = 201,
      verb = 'create',
      resource = 'jobs',
      subresource?: string,
    ) =>
      JSON.stringify({
        verb,
        user: { username: user },
        objectRef: { resource, ...(subresource ? { subresource } : {}), namespace: 'n', name },
        responseStatus: { code },
        requestReceivedTimestamp: '2026-12-08T00:34:56.069500Z',
        stageTimestamp: '2026-12-08T00:34:56.078345Z',
      });
    const log = [
      entry(OPERATOR, 'rb-0-s2-1'),
      entry(OPERATOR, 'rb-0-s2-taken', 409),
      entry(OPERATOR, 'rb-0-s2-1', 200, 'get'),
      entry(OPERATOR, 'rb-0', 201, 'create', 'events'),
      entry('system:admin', 'job-0'),
      entry('system:admin', 'pod-0', 200, 'patch', 'pods', 'status'),
      entry('system:admin', 'pod-1', 200, 'patch', 'pods'),
      '',
    ].join('\n');
    const creates = auditedTimes(log, OPERATOR, 'create', 'jobs');
    expect([...creates.keys()]).to.deep.equal(['n/rb-0-s2-1']);
    const create = creates.get('n/rb-0-s2-1');
    expect(create?.received).to.equal(Date.UTC(2026, 11, 8, 0, 34, 56, 69));
    expect((create?.answered ?? 0) - (create?.received ?? 0)).to.equal(9);
    expect([...auditedTimes(log, 'system:admin', 'patch', 'pods/status').keys()]).to.deep.equal(['n/pod-0']);
  });

  it('reads a histogram’s quantiles and a counter’s total from what two scrapes differ by', () => {
    const scrape = (fast: number, slow: number, retries: number) =>
      [
        '# HELP workqueue_queue_duration_seconds How long in seconds an item stays in workqueue',
        '# TYPE workqueue_queue_duration_seconds histogram',
        `workqueue_queue_duration_seconds_bucket{le="0.001",name="agentrunbook"} ${fast}`,
        `workqueue_queue_duration_seconds_bucket{le="0.01",name="agentrunbook"} ${fast}`,
        `workqueue_queue_duration_seconds_bucket{le="0.1",name="agentrunbook"} ${fast + slow}`,
        `workqueue_queue_duration_seconds_bucket{le="+Inf",name="agentrunbook"} ${fast + slow}`,
        `workqueue_queue_duration_seconds_count{name="agentrunbook"} ${fast + slow}`,
        `workqueue_retries_total{name="agentrunbook"} ${retries}`,
        `workqueue_retries_total{name="agent-status"} 1`,
      ].join('\n');
    const run = gained(samples(scrape(100, 10, 5)), samples(scrape(10, 0, 2)));
    expect(histogramQuantile(run, 'workqueue_queue_duration_seconds', 0.5)).to.equal(0.001);
    expect(histogramQuantile(run, 'workqueue_queue_duration_seconds', 0.99)).to.equal(0.1);
    expect(total(run, 'workqueue_retries_total')).to.equal(3);
    expect(histogramQuantile(new Map(), 'workqueue_queue_duration_seconds', 0.5)).to.be.NaN;
  });

  it('reads --beds, refusing a bed it does not have', () => {
    expect([...bedsOf('stored,default')]).to.deep.equal(['stored', 'default']);
    expect(() => bedsOf('default,fast')).to.throw('--beds takes default, unthrottled, stored, not fast');
  });

  it('reads --stored as ascending counts, and refuses what is not one', () => {
    expect(storedCounts('5000,100,1000,100')).to.deep.equal([100, 1000, 5000]);
    expect(storedCounts('')).to.deep.equal([]);
    for (const bad of ['0', '-5', '1.5', 'ten']) expect(() => storedCounts(bad)).to.throw(/--stored/);
  });

  it('rounds a figure and prints the figures as a Markdown table with targets and load', () => {
    const taken = figure('CPU | per stage', 7.6849, 'ms', [0.512, 1, 2.345], { text: '<= 8 ms', met: true });
    expect(taken).to.deep.equal({
      name: 'CPU | per stage',
      value: 7.68,
      unit: 'ms',
      load: [0.51, 1, 2.35],
      target: '<= 8 ms',
      met: true,
    });
    const lines = table([taken, figure('peak RSS', 178.6, 'MB', [1, 1, 1])]).split('\n');
    expect(lines).to.have.length(4);
    expect(lines[2]).to.equal('| CPU \\| per stage | 7.68 ms | <= 8 ms | met | 0.51 1 2.35 |');
    expect(lines[3]).to.equal('| peak RSS | 178.6 MB |  |  | 1 1 1 |');
  });
});
