import { expect } from 'chai';
import type { SpecV2 } from '../../../src/api/v2/runbook.js';
import { analyzeRunbook, graphWidth, optimizeRunbook } from '../../../src/generator/optimize.js';
import { reviewAdmission } from '../../../src/webhook/admission.js';
import { validateRunbookSpec } from '../../../src/webhook/validate-runbook.js';

const rules = (spec: SpecV2) => analyzeRunbook(spec).map((finding) => finding.rule);

describe('the optimizer (RunbookOptimizer)', () => {
  it('finds nothing in a lean runbook', () => {
    const spec: SpecV2 = {
      version: '1.0.0',
      execution: { mode: 'hybrid', parallelism: 2 },
      agents: { pipeline: [{ name: 'a' }, { name: 'b' }, { name: 'c', dependsOn: ['a', 'b'] }] },
    };
    expect(analyzeRunbook(spec)).to.deep.equal([]);
    expect(optimizeRunbook(spec).spec).to.deep.equal(spec);
  });

  it('measures the width of a graph as its largest antichain', () => {
    const graph = (edges: Record<string, string[]>) => new Map(Object.entries(edges));
    expect(graphWidth(graph({ a: [], b: ['a'], c: ['b'] }))).to.equal(1);
    expect(graphWidth(graph({ a: [], b: [], c: [], d: ['a', 'b', 'c'] }))).to.equal(3);
    // A diamond with a tail: b and c side by side, then d; e beside everything after a.
    expect(graphWidth(graph({ a: [], b: ['a'], c: ['a'], d: ['b', 'c'], e: ['a'] }))).to.equal(3);
  });

  it('removes an unused core agent', () => {
    const spec: SpecV2 = {
      version: '1.0.0',
      agents: {
        pipeline: [{ name: 'a' }],
        core: { librarian: {}, analyst: {} },
      },
      workflows: {
        fallback: { trigger: { conditions: ['TIMEOUT'] }, steps: [{ name: 'ask', agent: 'analyst' }] },
      },
    };
    expect(analyzeRunbook(spec)).to.deep.equal([
      {
        rule: 'unused-core-agent',
        field: 'spec.agents.core.librarian',
        message: 'core agent librarian is not run by any workflow step or stage: remove it',
      },
    ]);
    expect(optimizeRunbook(spec).spec.agents.core).to.deep.equal({ analyst: {} });
  });

  it('drops dependsOn entries the graph implies (transitive reduction), counting output references', () => {
    const spec: SpecV2 = {
      version: '1.0.0',
      execution: { mode: 'hybrid' },
      agents: {
        pipeline: [
          { name: 'a' },
          { name: 'b', config: { inputs: { from: '${a.outputs.x}' } } },
          { name: 'c', dependsOn: ['a', 'b'] },
        ],
      },
    };
    expect(rules(spec)).to.deep.equal(['redundant-dependency']);
    const optimized = optimizeRunbook(spec).spec;
    expect(optimized.agents.pipeline?.[2]?.dependsOn).to.deep.equal(['b']);
    expect(analyzeRunbook(optimized)).to.deep.equal([]);
  });

  it('says when pipeline mode serializes stages that nothing orders, and switches to hybrid', () => {
    const spec: SpecV2 = {
      version: '1.0.0',
      agents: {
        pipeline: [
          { name: 'market' },
          { name: 'competitors' },
          { name: 'report', config: { inputs: { m: '${market.outputs.x}', c: '${competitors.outputs.y}' } } },
        ],
      },
    };
    const [finding] = analyzeRunbook(spec);
    expect(finding?.rule).to.equal('parallelizable-stages');
    expect(finding?.message).to.contain('up to 2 could run at once');
    expect(optimizeRunbook(spec).spec.execution?.mode).to.equal('hybrid');
  });

  it('says when parallelism exceeds what the graph can run, but not for the default', () => {
    const chain = (parallelism: number): SpecV2 => ({
      version: '1.0.0',
      execution: { mode: 'hybrid', parallelism },
      agents: { pipeline: [{ name: 'a' }, { name: 'b', dependsOn: ['a'] }] },
    });
    expect(rules(chain(8))).to.deep.equal(['parallelism-above-width']);
    expect(rules(chain(5))).to.deep.equal([]);
    expect(optimizeRunbook(chain(8)).spec.execution?.parallelism).to.equal(1);
  });

  it('folds a stage that repeats another into it, pointing its readers at the kept one', () => {
    const spec: SpecV2 = {
      version: '1.0.0',
      execution: { mode: 'hybrid' },
      agents: {
        pipeline: [
          { name: 'research', agent: 'researcher', config: { parameters: { depth: 2 } } },
          { name: 'research-again', agent: 'researcher', config: { parameters: { depth: 2 } } },
          {
            name: 'report',
            dependsOn: ['research-again'],
            config: { inputs: { text: '${research-again.outputs.summary}' } },
          },
        ],
      },
      quality: { gates: [{ name: 'check', required: true, before: 'research-again' }] },
    };
    expect(rules(spec)).to.deep.equal(['repeated-stage']);
    const optimized = optimizeRunbook(spec).spec;
    expect(optimized.agents.pipeline?.map((stage) => stage.name)).to.deep.equal(['research', 'report']);
    expect(optimized.agents.pipeline?.[1]).to.deep.include({ dependsOn: ['research'] });
    expect(optimized.agents.pipeline?.[1]?.config?.inputs).to.deep.equal({
      text: '${research.outputs.summary}',
    });
    expect(optimized.quality?.gates?.[0]?.before).to.equal('research');
    expect(validateRunbookSpec(optimized)).to.deep.equal([]);
  });

  it('the validating webhook returns the findings as warnings', () => {
    const review = reviewAdmission({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid: 'u',
        operation: 'CREATE',
        object: {
          spec: {
            version: '1.0.0',
            execution: { mode: 'hybrid', parallelism: 9 },
            agents: { pipeline: [{ name: 'a' }, { name: 'b', dependsOn: ['a'] }] },
          },
        },
      },
    }) as { response: { allowed: boolean; warnings?: string[] } };
    expect(review.response.allowed).to.equal(true);
    expect(review.response.warnings).to.deep.equal([
      'spec.execution.parallelism: parallelism 9 is more than the 1 stages the graph can ever run at once: set it to 1',
    ]);
  });
});

describe('the optimizer on hostile input', () => {
  it('analyzes the largest pipeline, every stage depending on all before it, and reduces it to a chain', () => {
    const pipeline = Array.from({ length: 64 }, (_, index) => ({
      name: `s${index}`,
      dependsOn: Array.from({ length: index }, (_, before) => `s${before}`),
    }));
    const spec: SpecV2 = { version: '1.0.0', execution: { mode: 'hybrid' }, agents: { pipeline } };
    // Of the 64*63/2 edges, all but the 63 of the chain are implied by the others.
    expect(analyzeRunbook(spec)).to.have.length((64 * 63) / 2 - 63);
    const review = reviewAdmission({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: { uid: 'u', operation: 'CREATE', object: { spec } },
    }) as { response: { warnings: string[] } };
    // The API server keeps a few kilobytes of warnings: five findings and a count of the rest.
    expect(review.response.warnings).to.have.length(6);
    expect(review.response.warnings[5]).to.equal(
      `and ${(64 * 63) / 2 - 63 - 5} more optimizer findings: agentrunbook optimize lists them`,
    );
    const optimized = optimizeRunbook(spec).spec;
    expect(optimized.agents.pipeline?.map((stage) => stage.dependsOn?.length)).to.deep.equal([
      0,
      ...Array.from({ length: 63 }, () => 1),
    ]);
  });
});
