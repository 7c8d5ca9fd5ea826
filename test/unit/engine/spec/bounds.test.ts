import { expect } from 'chai';
import { deepObject, nestedAll } from '../../../support/hostile-input.js';
import { EngineHarness, runbookOf, spec, TEST_CATALOG } from '../../../support/engine-harness.js';
import { MAX_DURATION_MS, MAX_MICROS } from '../../../../src/api/limits.js';
import { truncate, validateStatus } from '../../../../src/api/status-schema.js';
import type { SpecV2 } from '../../../../src/api/v2/runbook.js';
import { compileCondition } from '../../../../src/engine/spec/cel.js';
import { gateApplies } from '../../../../src/engine/spec/gates.js';
import { decideSafely } from '../../../../src/engine/run/guard.js';
import { resolveInputs } from '../../../../src/engine/stage/inputs.js';
import { microsFromReport, formatMicros } from '../../../../src/api/grammar.js';
import { strategyDelayMs } from '../../../../src/engine/stage/retry.js';
import { deepMerge } from '../../../../src/engine/spec/effective.js';
import { substitute, UnresolvedReference } from '../../../../src/engine/spec/substitution.js';

const stage = (name: string, extra: Record<string, unknown> = {}) => ({ name, ...extra });
const domains = Array.from({ length: 64 }, (_, index) => `domain-${index}`);
const CONTEXT_ONLY = new Set(['context']);

describe('bounds: CEL conditions', () => {
  const scope = { context: { domains } };

  it('refuses a condition whose estimated cost is over the limit, with the estimate', () => {
    const compiled = compileCondition(nestedAll(5), scope, CONTEXT_ONLY);
    expect(compiled)
      .to.have.property('problem')
      .that.matches(/estimated cost of \d+, over the limit of 100000/);
  });

  it('lets a cheap condition run and gives its result', () => {
    const compiled = compileCondition('context.domains.exists(d, d == "domain-3")', scope, CONTEXT_ONLY);
    expect('evaluate' in compiled && compiled.evaluate()).to.equal(true);
  });

  it('fails a gate closed, with the reason, when its condition is over the limit at run time', () => {
    const result = gateApplies(
      { name: 'g', condition: nestedAll(5) },
      spec({ context: { domains }, stages: [stage('a')] }),
    );
    expect(result.applies).to.equal(true);
    expect(result.message).to.contain('estimated cost');
  });

  it('counts matches() at text length times pattern length', () => {
    const text = { context: { title: 'a'.repeat(4000) } };
    const short = compileCondition('context.title.matches("a")', text, CONTEXT_ONLY);
    const long = compileCondition(`context.title.matches("${'a'.repeat(30)}")`, text, CONTEXT_ONLY);
    expect(long).to.have.property('problem').that.contains('estimated cost of');
    expect(short).to.have.property('cost').that.is.below(10_000);
  });

  it('runs matches() on RE2: a catastrophic pattern answers, a backreference is refused', () => {
    const compiled = compileCondition(
      `context.title.matches("^(a+)+$")`,
      { context: { title: `${'a'.repeat(5000)}b` } },
      CONTEXT_ONLY,
    );
    expect('evaluate' in compiled && compiled.evaluate()).to.equal(false);
    expect(compileCondition(`context.title.matches("(a)\\\\1")`, scope, CONTEXT_ONLY))
      .to.have.property('problem')
      .that.contains('not an RE2 regular expression');
  });
});

describe('gate conditions read context fields bare or under context (issue 10)', () => {
  for (const condition of ['riskLevel > 7', 'context.riskLevel > 7', '"finance" in domains']) {
    it(`evaluates ${condition} against the runbook's context`, () => {
      const runbook = spec({ context: { riskLevel: 8, domains: ['finance'] }, stages: [stage('a')] });
      expect(gateApplies({ name: 'g', condition }, runbook)).to.deep.equal({
        applies: true,
        message: `condition ${condition} is true`,
      });
      const calm = spec({ context: { riskLevel: 2, domains: ['retail'] }, stages: [stage('a')] });
      expect(gateApplies({ name: 'g', condition }, calm).applies).to.equal(false);
    });
  }

  it('fails closed, saying why, when a declared context field is not set', () => {
    const result = gateApplies({ name: 'g', condition: 'riskLevel > 7' }, spec({ stages: [stage('a')] }));
    expect(result.applies).to.equal(true);
    expect(result.message).to.match(
      /^condition riskLevel > 7 could not be evaluated \(.+\); waiting to be safe$/,
    );
  });
});

describe('bounds: validation schemas', () => {
  it('checks a pattern with RE2, so ^(a+)+$ against 41 characters answers', () => {
    const result = resolveInputs(
      {
        name: 'a',
        config: {
          inputs: { text: `${'a'.repeat(40)}!` },
          validation: {
            schema: { properties: { inputs: { properties: { text: { pattern: '^(a+)+$' } } } } },
          },
        },
      },
      { context: {}, outputs: {}, timestamp: 't', runbook: { name: 'r', namespace: 'n', version: '1' } },
    );
    expect(result).to.have.nested.property('problem.reason', 'InputValidationFailed');
  });
});

describe('bounds: time', () => {
  it('never delays a retry past the longest duration, whatever the multiplier', () => {
    const delay = strategyDelayMs({ type: 'exponential', baseDelay: '1s', multiplier: 100 }, 100, 'j');
    expect(delay).to.equal(MAX_DURATION_MS);
    expect(strategyDelayMs({ type: 'custom', parameters: { backoffMultiplier: 1e300 } }, 50, 'j')).to.equal(
      MAX_DURATION_MS,
    );
  });
});

describe('bounds: money and tokens saturate within the schema', () => {
  it('reads reports far over the schema’s nine digits as its largest amount', () => {
    expect(microsFromReport(1e300)).to.equal(MAX_MICROS);
    expect(microsFromReport('99999999999999999999.5')).to.equal(MAX_MICROS);
    expect(formatMicros(MAX_MICROS * 2)).to.equal('999999999.999999');
  });

  it('sums two huge reports into a valid status and stops on the budget', () => {
    const h = new EngineHarness(
      runbookOf(
        spec({
          budgets: { cost: { maxUSD: '100.00', perAgent: '40.00' } },
          stages: [stage('a'), stage('b'), stage('c')],
        }),
      ),
    );
    h.step();
    h.succeed('a', {}, { tokens: 2 ** 63, costUSD: '999999999' });
    h.succeed('b', {}, { tokens: 2 ** 63, costUSD: 1e300 } as never);
    const folded = h.step();
    // The figures are kept at the most the status holds, and say so (issue 25).
    expect(h.runbook.status?.usage).to.deep.equal({
      tokens: Number.MAX_SAFE_INTEGER,
      costUSD: '999999999.999999',
      capped: true,
    });
    expect(h.stage('b').usage).to.include({ capped: true });
    expect(
      folded.events.filter((event) => event.reason === 'UsageCapped').map((event) => event.type),
    ).to.deep.equal(['Warning', 'Warning']);
    expect(h.phase).to.equal('BudgetExceeded');
  });

  it('marks nothing capped for ordinary usage', () => {
    const h = new EngineHarness(runbookOf(spec({ stages: [stage('a')] })));
    h.step();
    h.succeed('a', {}, { tokens: 10, costUSD: '0.01' });
    const folded = h.step();
    expect(h.runbook.status?.usage).to.deep.equal({ tokens: 10, costUSD: '0.01' });
    expect(folded.events.map((event) => event.reason)).not.to.include('UsageCapped');
  });
});

describe('bounds: messages fit the schema', () => {
  it('cuts a stage message past 4,096 characters (a long unresolved reference)', () => {
    const reference = `\${context.${'x'.repeat(3000)}}`;
    const h = new EngineHarness(
      runbookOf(spec({ stages: [stage('a', { config: { inputs: { text: reference } } })] })),
    );
    h.step();
    const message = h.stage('a').message ?? '';
    expect(h.stage('a').reason).to.equal('UnresolvedReference');
    expect(Array.from(message).length).to.equal(4096);
    expect(message.endsWith('…')).to.equal(true);
  });

  it('cuts a gate message past 1,024 characters', () => {
    const condition = `context.title == "${'y'.repeat(2000)}" && nosuch.field`;
    const h = new EngineHarness(
      runbookOf(spec({ quality: { gates: [{ name: 'g', condition }] }, stages: [stage('a')] })),
    );
    h.step();
    expect(Array.from(h.runbook.status?.gates?.[0]?.message ?? '').length).to.be.at.most(1024);
  });

  it('truncates between graphemes, never inside one', () => {
    expect(truncate('ab👩‍👩‍👧cd', 5)).to.equal('ab…');
  });
});

describe('bounds: the engine guard parks instead of throwing', () => {
  const input = (s: SpecV2, status?: Record<string, unknown>) => ({
    runbook: { ...runbookOf(s), ...(status ? { status } : {}) },
    jobs: [],
    now: new Date('2026-01-01T00:00:00Z'),
    catalog: TEST_CATALOG,
  });

  it('parks a spec nested past the bound (stored before the webhook ran) as InvalidSpec', () => {
    const deep = spec({ stages: [stage('a', { config: { parameters: deepObject(5000, { leaf: 1 }) } })] });
    const decision = decideSafely(input(deep));
    expect(decision.status.phase).to.equal('Failed');
    const failed = decision.status.conditions?.find((c) => c.type === 'Failed');
    expect(failed?.reason).to.equal('InvalidSpec');
    expect(failed?.message).to.contain('spec.agents.pipeline[0].config.parameters');
    expect(decision.events.map((e) => e.reason)).to.deep.equal(['InvalidSpec']);
    expect(validateStatus(decision.status)).to.deep.equal([]);
  });

  it('parks a fallback step named like a pipeline stage as InvalidSpec', () => {
    const colliding = spec({
      stages: [stage('a'), stage('b')],
      workflows: {
        fallback: { trigger: { conditions: ['API_ERROR'] }, steps: [{ name: 'b', agent: 'a' }] },
      },
    });
    const failed = decideSafely(input(colliding)).status.conditions?.find((c) => c.type === 'Failed');
    expect(failed?.message).to.contain('spec.workflows.fallback.steps[0].name');
  });

  it('parks an engine exception as InternalError, keeping the stages, and says so once', () => {
    const broken = {
      execution: 'g1',
      phase: 'Running',
      stages: [{ name: 'a', phase: 'Succeeded', outputs: { kept: true }, usage: { costUSD: 'lots' } }],
    };
    const first = decideSafely(input(spec({ stages: [stage('a'), stage('b')] }), broken));
    expect(first.status.phase).to.equal('Failed');
    expect(first.status.conditions?.find((c) => c.type === 'Failed')?.reason).to.equal('InternalError');
    expect(first.status.stages?.[0]?.outputs).to.deep.equal({ kept: true });
    const again = decideSafely(input(spec({ stages: [stage('a'), stage('b')] }), { ...first.status }));
    expect(again.events).to.deep.equal([]);
  });

  it('stops on park what may still run: Jobs and child runbooks seen running or only recorded', () => {
    const observed = (name: string, state: 'active' | 'succeeded') => ({
      name,
      stage: name,
      execution: 'g1',
      generation: 1,
      attempt: 1,
      state,
      podTerminated: state !== 'active',
    });
    const child = (name: string, phase: string) => ({
      name,
      stage: name,
      execution: 'g1',
      attempt: 1,
      phase,
      stages: [],
    });
    const stored = {
      execution: 'g1',
      phase: 'Running',
      stages: [
        { name: 'a', phase: 'Succeeded', usage: { costUSD: 'lots' } },
        // Created by the last reconcile, not in the cache yet.
        { name: 'b', phase: 'Running', job: 'r-b-unseen' },
        { name: 'c', phase: 'Running', child: 'r-c-unseen' },
        { name: 'd', phase: 'Running', job: 'r-d-running' },
        { name: 'e', phase: 'Running', child: 'r-e-running' },
        { name: 'f', phase: 'Succeeded', job: 'r-f-done' },
      ],
    };
    const parked = decideSafely({
      ...input(spec({ stages: ['a', 'b', 'c', 'd', 'e', 'f'].map((name) => stage(name)) }), stored),
      jobs: [observed('r-d-running', 'active'), observed('r-f-done', 'succeeded')],
      children: [child('r-e-running', 'Running'), child('r-old', 'Succeeded')],
    });
    expect(parked.status.conditions?.find((c) => c.type === 'Failed')?.reason).to.equal('InternalError');
    expect(parked.create).to.deep.equal([]);
    expect(parked.delete.map((d) => d.name).sort()).to.deep.equal(['r-b-unseen', 'r-d-running']);
    expect(parked.cancelChildren?.sort()).to.deep.equal(['r-c-unseen', 'r-e-running']);
  });
});

describe('bounds: user keys never reach a prototype', () => {
  it('does not resolve ${context.constructor} to an inherited member', () => {
    const scope = {
      context: {},
      outputs: {},
      timestamp: 't',
      runbook: { name: 'r', namespace: 'n', version: '1' },
    };
    expect(() => substitute('${context.constructor}', scope)).to.throw(UnresolvedReference);
    expect(() => substitute('${constructor.outputs.x}', scope)).to.throw(UnresolvedReference);
  });

  it('merges an overlay key __proto__ as data, not as the prototype', () => {
    const overlay = JSON.parse('{"__proto__": {"polluted": true}}') as Record<string, unknown>;
    const merged = deepMerge<Record<string, unknown>>({}, overlay);
    expect(Object.getPrototypeOf(merged)).to.equal(Object.prototype);
    expect(Object.hasOwn(merged, '__proto__')).to.equal(true);
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
  });
});
