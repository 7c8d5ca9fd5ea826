import { expect } from 'chai';
import { slotFor, type QueueMember } from '../../../../src/engine/run/concurrency.js';
import { EngineHarness, runbookOf, spec } from '../../../support/engine-harness.js';

const running = (key: string, namespace = 'team-a'): QueueMember => ({ key, namespace, holds: true });
const queued = (key: string, since: string, namespace = 'team-a'): QueueMember => ({
  key,
  namespace,
  holds: false,
  waitingSince: since,
});

describe('concurrency across runbooks (maxConcurrentPipelines, issue 25)', () => {
  it('lets a run start while its namespace has room, and queues it in order when not', () => {
    const me = { ...queued('team-a/me', '2026-01-01T00:00:05Z'), limit: 2 };
    expect(slotFor(me.key, [running('team-a/a'), me], {})).to.deep.equal({ granted: true });
    const full = slotFor(me.key, [running('team-a/a'), running('team-a/b'), me], {});
    expect(full).to.deep.include({ granted: false, place: 1 });
    expect(full.granted ? '' : full.message).to.equal(
      "number 1 in line for namespace team-a: 2 of 2 runbooks run (team-a/a, team-a/b); the limit is this runbook's maxConcurrentPipelines",
    );
    // One who began waiting earlier goes first, even when a slot is free for one of them.
    const behind = slotFor(
      me.key,
      [running('team-a/a'), queued('team-a/early', '2026-01-01T00:00:01Z'), me],
      {},
    );
    expect(behind).to.deep.include({ granted: false, place: 2 });
  });

  it('counts only its own namespace for a runbook’s limit; the operator’s cluster limit counts all', () => {
    const me = { ...queued('team-a/me', '2026-01-01T00:00:05Z'), limit: 1 };
    const others = [running('team-b/x', 'team-b'), running('team-b/y', 'team-b')];
    expect(slotFor(me.key, [...others, me], {})).to.deep.equal({ granted: true });
    const cluster = slotFor(me.key, [...others, me], { cluster: 2 });
    expect(cluster).to.deep.include({ granted: false, place: 1 });
    expect(cluster.granted ? '' : cluster.message).to.contain(
      "in line for the cluster: 2 of 2 runbooks run (team-b/x, team-b/y); the limit is the operator's concurrency.cluster",
    );
    const unlimited = queued('team-a/me', '2026-01-01T00:00:05Z');
    expect(slotFor(me.key, [running('team-a/a'), unlimited], { perNamespace: 1 })).to.deep.include({
      granted: false,
    });
  });

  it('never makes a run that already holds a slot wait (a spec change restarts it in place)', () => {
    const me = { ...running('team-a/me'), limit: 1 };
    expect(slotFor(me.key, [running('team-a/a'), running('team-a/b'), me], { cluster: 1 })).to.deep.equal({
      granted: true,
    });
  });

  it('queues a run without starting its clock, then starts it afresh when it has a slot', () => {
    const h = new EngineHarness(
      runbookOf(spec({ stages: [{ name: 'a' }], budgets: { time: { total: '10m' } } })),
    );
    h.slot = { granted: false, place: 2, message: 'number 2 of 2 waiting for namespace ns' };
    const first = h.step();
    expect(first.status.phase).to.equal('Queued');
    expect(first.status.startTime).to.equal(undefined);
    expect(first.create).to.deep.equal([]);
    expect(first.events.map((event) => event.reason)).to.deep.equal(['Queued']);
    const queuedAt = first.status.conditions?.find((c) => c.type === 'Queued')?.lastTransitionTime;
    expect(first.status.conditions?.find((c) => c.type === 'Ready')).to.deep.include({
      status: 'False',
      reason: 'Queued',
    });
    h.now = new Date(h.now.getTime() + 600_000);
    h.slot = { granted: false, place: 1, message: 'number 1 of 1 waiting for namespace ns' };
    const still = h.step();
    expect(still.events).to.deep.equal([]);
    expect(still.status.conditions?.find((c) => c.type === 'Queued')).to.deep.include({
      lastTransitionTime: queuedAt,
      message: 'number 1 of 1 waiting for namespace ns',
    });
    // Ten minutes in the queue, a ten-minute limit: the run still has all of it.
    h.slot = { granted: true };
    const started = h.step();
    expect(started.status.phase).to.equal('Running');
    expect(started.create.map((plan) => plan.stage)).to.deep.equal(['a']);
    expect(started.status.startTime).to.equal(h.runbook.status?.startTime);
    expect(
      Date.parse(started.status.clock?.deadline ?? '') - Date.parse(started.status.startTime ?? ''),
    ).to.equal(600_000);
    expect(started.status.conditions?.find((c) => c.type === 'Queued')).to.deep.include({
      status: 'False',
      reason: 'Started',
    });
    expect(started.events.map((event) => event.reason)).to.include('RunStarted');
  });

  it('lets a queued run be cancelled without a slot', () => {
    const h = new EngineHarness(runbookOf(spec({ stages: [{ name: 'a' }] })));
    h.slot = { granted: false, place: 1, message: 'waiting' };
    h.step();
    h.runbook = { ...h.runbook, spec: { ...h.runbook.spec, status: 'Cancelled' } };
    const cancelled = h.step().status;
    expect(cancelled.phase).to.equal('Cancelled');
    expect(cancelled.conditions?.find((c) => c.type === 'Queued')).to.deep.include({
      status: 'False',
      reason: 'Cancelled',
    });
  });
});
