import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { parse } from 'yaml';
import { repoRoot } from '../../../hack/local-cluster/paths.js';
import type { RunbookObject } from '../../../src/engine/model/types.js';
import { resolveTemplate } from '../../../src/generator/resolve-template.js';
import { EngineHarness } from '../../support/engine-harness.js';

interface HealthResult {
  script: string;
  inputPath: string;
  expected: { status: string; message?: string };
  actual?: { status: string; message?: string };
  error?: string;
}

const CUSTOMIZATIONS = join(repoRoot, 'config', 'argocd', 'resource_customizations');
const TESTDATA = join(CUSTOMIZATIONS, 'i2s.studio', 'AgentRunbook', 'testdata');

type Conditions = NonNullable<NonNullable<RunbookObject['status']>['conditions']>;
interface Fixture extends RunbookObject {
  status: NonNullable<RunbookObject['status']> & { phase: string; conditions: Conditions };
}
const fixture = (name: string) => parse(readFileSync(join(TESTDATA, name), 'utf8')) as Fixture;
const conditionOf = (runbook: Fixture, type: string) =>
  runbook.status.conditions.find((condition) => condition.type === type);

/** Runs every case of every health_test.yaml through Argo CD's own Lua VM. */
function evaluate(dir: string): HealthResult[] {
  const program = execFileSync('bash', [join(repoRoot, 'hack', 'argocd-health.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  return JSON.parse(execFileSync(program, [dir], { encoding: 'utf8' })) as HealthResult[];
}

describe('the Argo CD health check of AgentRunbook (Argo CD’s Lua VM)', function () {
  // The first run builds Argo CD's Lua VM from its Go module.
  this.timeout(900_000);
  let results: HealthResult[] = [];

  before(() => {
    results = evaluate(CUSTOMIZATIONS);
  });

  it('covers every phase, suspend, a new generation and a missing status', () => {
    const statuses = new Set(results.map((result) => result.expected.status));
    expect([...statuses].sort()).to.deep.equal(['Degraded', 'Healthy', 'Progressing', 'Suspended']);
    expect(results.length).to.be.at.least(12);
  });

  it('gives the status and message health_test.yaml expects, for each fixture', () => {
    const wrong = results.filter(
      (result) =>
        result.error !== undefined || JSON.stringify(result.actual) !== JSON.stringify(result.expected),
    );
    expect(wrong, JSON.stringify(wrong, null, 2)).to.deep.equal([]);
  });

  // So that the fixtures cannot drift from what a person's runbook would show.
  it('has fixtures whose conditions are those the operator writes', () => {
    const unresolved = fixture('template-not-found.yaml');
    const why = resolveTemplate(unresolved, [], new Date());
    expect(conditionOf(unresolved, 'TemplateResolved')).to.include(why);

    const waiting = fixture('waiting-for-approval.yaml');
    const h = new EngineHarness({ metadata: waiting.metadata, spec: waiting.spec });
    h.step();
    h.succeed('normalize');
    h.step();
    expect(h.phase).to.equal(waiting.status.phase);
    for (const type of ['Ready', 'ApprovalPending'])
      expect(conditionOf(waiting, type), type).to.include({
        reason: h.condition(type)?.reason,
        message: h.condition(type)?.message,
      });
  });
});
