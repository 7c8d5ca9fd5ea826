import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { parse } from 'yaml';
import type { SpecV2 } from '../../../../src/api/v2/runbook.js';
import { decideGate, EngineHarness, runbookOf, spec } from '../../../support/engine-harness.js';

const MINUTE = 60_000;
const later = (h: EngineHarness, ms: number) => {
  h.now = new Date(h.now.getTime() + ms);
};

describe('run clock: time waiting at a gate does not count', () => {
  const gated = () =>
    new EngineHarness(
      runbookOf(
        spec({
          execution: { mode: 'pipeline', timeout: '15m' },
          quality: { gates: [{ name: 'review', required: true, timeout: '4h' }] },
          stages: [{ name: 'a' }, { name: 'b' }],
        }),
      ),
    );

  it('stops the clock while WaitingForApproval and starts it again on approval', () => {
    const h = gated();
    const start = h.now.getTime();
    h.step();
    expect(h.phase).to.equal('WaitingForApproval');
    expect(h.runbook.status?.clock).to.deep.equal({ limit: '15m', pausedSince: '2026-01-01T00:00:00Z' });
    expect(h.runbook.status?.gates?.[0]).to.include({
      since: '2026-01-01T00:00:00Z',
      deadline: '2026-01-01T04:00:00Z',
    });
    later(h, 20 * MINUTE);
    expect(h.step().requeueAfterMs).to.equal(4 * 3600_000 - 20 * MINUTE - 1000);
    expect(h.phase, 'past execution.timeout while waiting').to.equal('WaitingForApproval');
    decideGate(h, 'review', 'Approved');
    const approved = h.step();
    expect(approved.create.map((plan) => plan.stage)).to.deep.equal(['a']);
    const paused = 20 * 60 + 2;
    expect(h.runbook.status?.clock).to.deep.equal({
      limit: '15m',
      pausedSeconds: paused,
      deadline: new Date(start + 15 * MINUTE + paused * 1000).toISOString().replace('.000Z', 'Z'),
    });
    expect(approved.create[0]?.activeDeadlineSeconds, 'none of the limit used yet').to.equal(15 * 60);
    later(h, 15 * MINUTE);
    h.step();
    expect(h.phase).to.equal('TimedOut');
    expect(h.condition('TimedOut')?.message).to.contain('not counting time waiting at gates');
  });

  it('keeps the gate timeout as the bound on the wait', () => {
    const h = gated();
    h.step();
    later(h, 4 * 3600_000);
    h.step();
    expect(h.condition('Failed')).to.include({ reason: 'GateTimedOut' });
  });

  it('runs examples/base-template.yaml to Succeeded with its gate approved after the run timeout would have passed', () => {
    const manifest = parse(readFileSync('examples/base-template.yaml', 'utf8')) as { spec: SpecV2 };
    const h = new EngineHarness(runbookOf(manifest.spec));
    h.step();
    expect(h.phase).to.equal('WaitingForApproval');
    later(h, 20 * MINUTE);
    h.step();
    decideGate(h, 'risk_review', 'Approved');
    expect(h.step().create.map((plan) => plan.stage)).to.deep.equal(['normalize_idea']);
    h.succeed(
      'normalize_idea',
      { normalized_idea: { title: 'AI Task Manager' } },
      { tokens: 1200, costUSD: '0.02' },
    );
    h.step();
    expect(h.phase).to.equal('Succeeded');
    expect(h.runbook.status?.gates?.map((gate) => [gate.name, gate.phase])).to.deep.equal([
      ['risk_review', 'Approved'],
      ['security_check', 'NotApplicable'],
    ]);
  });
});
