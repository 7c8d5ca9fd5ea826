import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'chai';
import { repoRoot } from '../../../hack/local-cluster/paths.js';

interface HealthResult {
  script: string;
  inputPath: string;
  expected: { status: string; message?: string };
  actual?: { status: string; message?: string };
  error?: string;
}

const CUSTOMIZATIONS = join(repoRoot, 'config', 'argocd', 'resource_customizations');

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
});
