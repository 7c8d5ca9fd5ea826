import { expect } from 'chai';
import {
  substitute,
  referencedStages,
  UnresolvedReference,
  type SubstitutionScope,
} from '../../../../src/engine/spec/substitution.js';

const scope: SubstitutionScope = {
  context: {
    title: 'AI Task Manager',
    ideaText: 'Plan my day',
    riskLevel: 5,
    nested: { deep: { value: 'x' } },
  },
  outputs: { normalize: { normalized_idea: { summary: 'plans days', tags: ['a'] }, count: 3 } },
  timestamp: '2026-01-01T00:00:00Z',
  runbook: { name: 'rb', namespace: 'ns', version: '1.2.0' },
};

describe('${...} substitution', () => {
  it('resolves context fields, nested paths, stage outputs and the run variables', () => {
    expect(substitute('${context.title}', scope)).to.equal('AI Task Manager');
    expect(substitute('${context.nested.deep.value}', scope)).to.equal('x');
    expect(substitute('${normalize.outputs.normalized_idea.summary}', scope)).to.equal('plans days');
    expect(substitute('${$timestamp}', scope)).to.equal('2026-01-01T00:00:00Z');
    expect(substitute('${$runbook.name}@${$runbook.version}', scope)).to.equal('rb@1.2.0');
  });

  it('keeps the JSON type of a whole-string reference and writes objects as JSON inside text', () => {
    expect(substitute('${normalize.outputs.normalized_idea}', scope)).to.deep.equal({
      summary: 'plans days',
      tags: ['a'],
    });
    expect(substitute('${context.riskLevel}', scope)).to.equal(5);
    expect(substitute('risk=${context.riskLevel}', scope)).to.equal('risk=5');
    expect(substitute('tags: ${normalize.outputs.normalized_idea.tags}', scope)).to.equal('tags: ["a"]');
  });

  it('applies the transforms slug, upper, lower and truncate:N, in order', () => {
    expect(substitute('${context.title|slug}', scope)).to.equal('ai-task-manager');
    expect(substitute('${context.title|upper}', scope)).to.equal('AI TASK MANAGER');
    expect(substitute('${context.title|lower}', scope)).to.equal('ai task manager');
    expect(substitute('${context.title|truncate:7}', scope)).to.equal('AI Task');
    expect(substitute('${context.title|truncate:7|slug}', scope)).to.equal('ai-task');
  });

  it('substitutes inside arrays and objects', () => {
    expect(
      substitute({ a: ['${context.title|lower}', 1], b: { c: '${normalize.outputs.count}' } }, scope),
    ).to.deep.equal({
      a: ['ai task manager', 1],
      b: { c: 3 },
    });
  });

  for (const [reference, detail] of [
    ['${context.missing}', 'context.missing is not defined'],
    ['${research.outputs.report}', 'stage research has no outputs'],
    ['${normalize.outputs.nope}', 'normalize.outputs.nope is not defined'],
    ['${context.title|reverse}', 'unknown transform "reverse"'],
    ['${context.title|truncate:x}', 'truncate needs a whole number'],
    ['${title}', 'a reference starts with'],
  ] as const) {
    it(`refuses ${reference} with a message that says why`, () => {
      expect(() => substitute(reference, scope))
        .to.throw(UnresolvedReference)
        .with.property('message')
        .that.contains(detail);
    });
  }

  it('lists the stages whose outputs a value refers to', () => {
    expect([
      ...referencedStages({
        a: '${normalize.outputs.x} and ${research.outputs.y|upper}',
        b: ['${context.title}'],
      }),
    ]).to.deep.equal(['normalize', 'research']);
  });
});
