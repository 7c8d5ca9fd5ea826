import { expect } from 'chai';
import fc from 'fast-check';
import { EngineHarness, runbookOf, spec } from '../../../support/engine-harness.js';
import { dependencies } from '../../../../src/engine/spec/graph.js';
import { mainStages } from '../../../../src/engine/spec/workflow-stages.js';
import { EXECUTION_MODES } from '../../../../src/api/v2/execution.js';

const TERMINAL = ['Succeeded', 'Failed'];

/** A random runbook: a DAG (stage i may depend on any earlier stage), a mode, a cap, retry and failure settings. */
const scenario = fc.integer({ min: 1, max: 8 }).chain((count) =>
  fc.record({
    mode: fc.constantFrom(...EXECUTION_MODES),
    parallelism: fc.integer({ min: 1, max: 4 }),
    retries: fc.integer({ min: 0, max: 2 }),
    stages: fc.tuple(
      ...Array.from({ length: count }, (_, index) =>
        fc.record({
          dependsOn: fc.subarray(Array.from({ length: index }, (__, dep) => `s${dep}`)),
          failurePolicy: fc.constantFrom('abort', 'continue'),
        }),
      ),
    ),
    /** Which active Job finishes next, and whether it fails, at each step. */
    choices: fc.array(fc.record({ pick: fc.nat(), fail: fc.boolean() }), { minLength: 200, maxLength: 200 }),
    failures: fc.boolean(),
  }),
);

describe('engine properties (fast-check)', () => {
  it('for random DAGs and completion orders: dependencies first, the cap holds, the run ends, decisions repeat', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const runbook = runbookOf(
          spec({
            execution: { mode: s.mode, parallelism: s.parallelism, retries: s.retries },
            stages: s.stages.map((stage, index) => ({
              name: `s${index}`,
              dependsOn: stage.dependsOn,
              config: { failurePolicy: stage.failurePolicy },
            })),
          }),
        );
        const h = new EngineHarness(runbook);
        const deps = dependencies(mainStages(runbook.spec));
        for (const choice of s.choices) {
          expect(h.decideOnly()).to.deep.equal(h.decideOnly());
          const decision = h.step();
          const phases = new Map((decision.status.stages ?? []).map((stage) => [stage.name, stage.phase]));
          for (const plan of decision.create) {
            const stageDeps = deps.get(plan.stage);
            for (const dep of stageDeps?.required ?? [])
              expect(phases.get(dep), `${plan.stage} before ${dep}`).to.equal('Succeeded');
            if (stageDeps?.after)
              expect(['Succeeded', 'Failed', 'Skipped']).to.include(phases.get(stageDeps.after));
          }
          expect(h.active().length).to.be.at.most(s.parallelism);
          if (TERMINAL.includes(h.phase ?? '')) break;
          const active = h.active();
          const job = active[choice.pick % Math.max(active.length, 1)];
          if (!job) continue;
          if (s.failures && choice.fail) h.fail(job.stage, { error: { class: 'API_ERROR' } });
          else h.succeed(job.stage);
        }
        expect(TERMINAL, `the run did not end: ${JSON.stringify(h.runbook.status)}`).to.include(h.phase);
        expect(h.active()).to.deep.equal([]);
        if (!s.failures) expect(h.phase).to.equal('Succeeded');
      }),
      { numRuns: 300 },
    );
  });
});
