/**
 * What spec.template means for a reconcile, decided by the engine: the run uses the template's
 * spec, a template that cannot be resolved leaves the runbook Pending with why, and every status
 * (parks too) names the template and the spec's revision.
 */
import { expect } from 'chai';
import { decideSafely, park } from '../../../../src/engine/run/guard.js';
import { templateToResolve } from '../../../../src/engine/run/template-outcome.js';
import type { EngineInput, RunbookObject, TemplateStatus } from '../../../../src/engine/model/types.js';
import type { SpecV2 } from '../../../../src/api/v2/runbook.js';
import { catalogFor, runbookOf, spec } from '../../../support/engine-harness.js';

const NOW = new Date('2026-01-01T00:00:00Z');
const REVISION = { name: 'rb-5d4c3b2a1', number: 3, observedGeneration: 1, hash: '5d4c3b2a1' };
const made = spec({ execution: { mode: 'pipeline' }, stages: [{ name: 'a' }] });
const template: TemplateStatus = {
  kind: 'AgentRunbookTemplate',
  name: 'base',
  observedGeneration: 1,
  reason: 'named in spec.template',
  spec: made,
};
const fromTemplate = (): RunbookObject =>
  runbookOf({ template: { name: 'base' }, context: {} } as unknown as SpecV2);

const input = (runbook: RunbookObject, extra: Partial<EngineInput> = {}): EngineInput => ({
  runbook,
  jobs: [],
  now: NOW,
  catalog: catalogFor(made),
  ...extra,
});

describe('engine: spec.template', () => {
  it('asks for the template to be resolved only when the status does not hold this generation’s', () => {
    expect(templateToResolve(runbookOf(made))).to.equal(false);
    expect(templateToResolve(fromTemplate())).to.equal(true);
    expect(templateToResolve({ ...fromTemplate(), status: { template } })).to.equal(false);
    expect(
      templateToResolve({
        ...fromTemplate(),
        metadata: { ...fromTemplate().metadata, generation: 2 },
        status: { template },
      }),
    ).to.equal(true);
  });

  it('leaves a runbook whose template cannot be resolved Pending, saying why once', () => {
    const why = { reason: 'TemplateNotFound' as const, message: 'no AgentRunbookTemplate named base' };
    const first = decideSafely(input(fromTemplate(), { template: why, revision: REVISION }));
    expect(first.status.phase).to.equal('Pending');
    expect(first.create).to.deep.equal([]);
    expect(first.status.revision).to.deep.equal(REVISION);
    const resolved = first.status.conditions?.find((c) => c.type === 'TemplateResolved');
    expect(resolved).to.include({ status: 'False', reason: 'TemplateNotFound' });
    expect(first.events.map((e) => e.reason)).to.deep.equal(['TemplateNotFound']);
    const again = decideSafely(input({ ...fromTemplate(), status: first.status }, { template: why }));
    expect(again.events).to.deep.equal([]);
  });

  it('without a resolution, says the operator does not read templates', () => {
    const decision = decideSafely(input(fromTemplate()));
    expect(decision.status.conditions?.find((c) => c.type === 'TemplateResolved')?.reason).to.equal(
      'TemplatesUnavailable',
    );
  });

  it('runs the template’s spec, and its status names the template and the revision', () => {
    const decision = decideSafely(input(fromTemplate(), { template: { template }, revision: REVISION }));
    expect(decision.create.map((plan) => plan.stage)).to.deep.equal(['a']);
    expect(decision.status.template).to.deep.equal(template);
    expect(decision.status.revision).to.deep.equal(REVISION);
  });

  it('a park keeps naming the template and the revision', () => {
    const runbook = { ...fromTemplate(), status: { template } };
    const parked = park(input(runbook, { revision: REVISION }), 'StatusRejected', 'refused');
    expect(parked.status.phase).to.equal('Failed');
    expect(parked.status.template?.name).to.equal('base');
    expect(parked.status.revision).to.deep.equal(REVISION);
  });
});
