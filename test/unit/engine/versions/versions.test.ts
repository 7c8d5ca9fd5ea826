import { expect } from 'chai';
import type { SpecV2 } from '../../../../src/api/v2/runbook.js';
import {
  planRevision,
  revisionHash,
  revisionName,
  type StoredRevision,
} from '../../../../src/engine/versions/revisions.js';
import {
  bumpOf,
  CHANGE_RULES,
  nextVersion,
  specChanges,
} from '../../../../src/engine/versions/spec-changes.js';

const spec = (extra: Partial<SpecV2> = {}): SpecV2 => ({
  version: '1.0.0',
  agents: {
    pipeline: [
      { name: 'research', config: { outputs: { summary: 'string' } } },
      { name: 'build', dependsOn: ['research'] },
    ],
  },
  budgets: { tokens: { total: 1000 }, cost: { maxUSD: '10.00' }, time: { total: '1h' } },
  ...extra,
});

const rulesOf = (old: SpecV2, next: SpecV2) => specChanges(old, next).map((change) => change.rule);

describe('spec changes and the bump they imply', () => {
  const cases: { name: string; next: SpecV2; rules: string[]; bump: string }[] = [
    { name: 'nothing', next: spec(), rules: [], bump: 'none' },
    {
      name: 'only operational fields',
      next: spec({ version: '9.9.9', suspend: true, status: 'Cancelled', revisionHistoryLimit: 3 }),
      rules: [],
      bump: 'none',
    },
    {
      name: 'a removed stage',
      next: spec({
        agents: { pipeline: [{ name: 'research', config: { outputs: { summary: 'string' } } }] },
      }),
      rules: ['stage-removed'],
      bump: 'major',
    },
    {
      name: 'an output whose type changed',
      next: spec({
        agents: {
          pipeline: [{ name: 'research', config: { outputs: { summary: 'object' } } }, { name: 'build' }],
        },
      }),
      rules: ['output-removed', 'changed'],
      bump: 'major',
    },
    {
      name: 'a lowered cost budget',
      next: spec({ budgets: { tokens: { total: 1000 }, cost: { maxUSD: '5.00' }, time: { total: '1h' } } }),
      rules: ['budget-lowered'],
      bump: 'major',
    },
    {
      name: 'a shorter time budget',
      next: spec({ budgets: { tokens: { total: 1000 }, cost: { maxUSD: '10.00' }, time: { total: '30m' } } }),
      rules: ['budget-lowered'],
      bump: 'major',
    },
    {
      name: 'a raised budget',
      next: spec({ budgets: { tokens: { total: 2000 }, cost: { maxUSD: '10.00' }, time: { total: '1h' } } }),
      rules: ['changed'],
      bump: 'patch',
    },
    {
      name: 'an added stage and gate',
      next: spec({
        agents: {
          pipeline: [
            { name: 'research', config: { outputs: { summary: 'string' } } },
            { name: 'build', dependsOn: ['research'] },
            { name: 'review', dependsOn: ['build'] },
          ],
        },
        quality: { gates: [{ name: 'signoff', required: true }] },
      }),
      rules: ['stage-added', 'gate-added'],
      bump: 'minor',
    },
    {
      name: 'a new core agent',
      next: spec({
        agents: {
          pipeline: [
            { name: 'research', config: { outputs: { summary: 'string' } } },
            { name: 'build', dependsOn: ['research'] },
          ],
          core: { librarian: {} },
        },
      }),
      rules: ['agent-added'],
      bump: 'minor',
    },
    {
      name: "a stage's timeout",
      next: spec({
        agents: {
          pipeline: [
            { name: 'research', config: { timeout: '5m', outputs: { summary: 'string' } } },
            { name: 'build', dependsOn: ['research'] },
          ],
        },
      }),
      rules: ['changed'],
      bump: 'patch',
    },
    { name: 'the description', next: spec({ description: 'new words' }), rules: ['changed'], bump: 'patch' },
  ];
  for (const { name, next, rules, bump } of cases) {
    it(`${name}: ${bump}`, () => {
      expect(rulesOf(spec(), next)).to.have.members(rules);
      expect(bumpOf(specChanges(spec(), next))).to.equal(bump);
    });
  }

  it('lists breaking changes first', () => {
    const next = spec({
      description: 'x',
      agents: { pipeline: [{ name: 'research' }, { name: 'report' }] },
    });
    const classes = specChanges(spec(), next).map((change) => change.class);
    expect(classes[0]).to.equal('breaking');
    expect(classes).to.deep.equal(
      [...classes].sort(
        (a, b) => ['breaking', 'feature', 'fix'].indexOf(a) - ['breaking', 'feature', 'fix'].indexOf(b),
      ),
    );
  });

  it('computes the next version as the specification does', () => {
    expect(nextVersion('1.2.3', 'major')).to.equal('2.0.0');
    expect(nextVersion('1.2.3', 'minor')).to.equal('1.3.0');
    expect(nextVersion('1.2.3', 'patch')).to.equal('1.2.4');
    expect(nextVersion('1.2.3', 'none')).to.equal('1.2.3');
  });

  it('every rule has a class and a description', () => {
    for (const rule of CHANGE_RULES) expect(rule.description).to.have.length.above(10);
  });
});

describe('revision planning', () => {
  const stored = (number: number, content: SpecV2): StoredRevision => ({
    name: revisionName('demo', revisionHash(content)),
    number,
    hash: revisionHash(content),
    spec: content,
  });

  it('creates the first revision with no bump', () => {
    const plan = planRevision('demo', spec(), []);
    expect(plan.current.number).to.equal(1);
    expect(plan.write).to.include({ mode: 'create', bump: 'none', version: '1.0.0' });
    expect(plan.prune).to.deep.equal([]);
  });

  it('does nothing when the latest revision already holds the spec, even if suspended', () => {
    const plan = planRevision('demo', spec({ suspend: true }), [stored(1, spec())]);
    expect(plan.write).to.equal(undefined);
    expect(plan.current.number).to.equal(1);
  });

  it('labels a new revision with the bump from the latest one', () => {
    const next = spec({ version: '2.0.0', agents: { pipeline: [{ name: 'research' }] } });
    const plan = planRevision('demo', next, [stored(1, spec())]);
    expect(plan.write?.bump).to.equal('major');
    expect(plan.write?.changes).to.include('breaking: removing stage build');
    expect(plan.current.number).to.equal(2);
  });

  it('renumbers an earlier revision that holds the spec again (a rollback)', () => {
    const second = spec({ version: '1.1.0', description: 'second' });
    const plan = planRevision('demo', spec(), [stored(1, spec()), stored(2, second)]);
    expect(plan.write?.mode).to.equal('renumber');
    expect(plan.current).to.deep.include({ name: stored(1, spec()).name, number: 3 });
  });

  it('prunes the oldest beyond revisionHistoryLimit, never the current one', () => {
    const history = [1, 2, 3, 4].map((n) => stored(n, spec({ version: `1.0.${n}` })));
    const plan = planRevision('demo', spec({ version: '1.0.9', revisionHistoryLimit: 2 }), history);
    expect(plan.prune).to.deep.equal(history.slice(0, 3).map((revision) => revision.name));
    const back = planRevision('demo', spec({ version: '1.0.1', revisionHistoryLimit: 1 }), history);
    expect(back.prune).to.not.include(history[0]?.name);
    expect(back.prune).to.have.length(3);
  });

  it('names revisions within the object name limit', () => {
    expect(revisionName('x'.repeat(253), 'abcdef0123')).to.have.length.at.most(253);
  });
});
