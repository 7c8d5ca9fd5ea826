import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { repoRoot } from '../../hack/local-cluster/paths.js';
import { mustRun } from '../../hack/local-cluster/install-operator.js';
import { freePort } from '../../hack/local-cluster/ports.js';
import { installOperator, testNamespace } from '../support/operator-harness.js';
import { bundledCli, startCli } from '../support/cli-process.js';
import { sharedControlPlane } from '../support/shared-control-plane.js';

const CATALOG = join(repoRoot, 'config', 'samples', 'operator-config.yaml');

describe('agentrunbook operator (the CLI entry point)', function () {
  this.timeout(60_000);

  it('starts with a kubeconfig, serves its probes, and exits 0 on SIGTERM after finishing its work (bundled, as the image runs it)', async () => {
    const plane = await sharedControlPlane();
    const kubeconfig = await installOperator(plane);
    const namespace = await testNamespace(plane, 'cli');
    const probePort = await freePort();
    // --no-webhook: a webhook registered on the shared control plane would outlive this test.
    const cli = startCli(
      [
        'operator',
        '--no-webhook',
        `--kubeconfig=${kubeconfig}`,
        `--config=${CATALOG}`,
        `--namespace=${namespace}`,
        `--health-probe-bind-address=127.0.0.1:${probePort}`,
      ],
      { script: await bundledCli() },
    );
    await cli.waitForOutput('operator started');
    const healthz = await fetch(`http://127.0.0.1:${probePort}/healthz`);
    expect(healthz.status).to.equal(200);
    // Ready once the caches are synced, which happens before the workers start.
    const readyz = await fetch(`http://127.0.0.1:${probePort}/readyz`);
    expect(readyz.status, await readyz.text()).to.equal(200);
    expect((await fetch(`http://127.0.0.1:${probePort}/nothing`)).status).to.equal(404);
    // A run starts (one Job), then a spec change replaces it (the Job deleted, another created).
    const runbook = (description: string) =>
      JSON.stringify({
        apiVersion: 'i2s.studio/v2',
        kind: 'AgentRunbook',
        metadata: { name: 'logged', namespace },
        spec: { version: '1.0.0', description, agents: { pipeline: [{ name: 'research' }] } },
      });
    await mustRun(plane.adminKubeconfigPath, ['apply', '-f', '-'], runbook('first'));
    await cli.waitForOutput('"job created"');
    await mustRun(plane.adminKubeconfigPath, ['apply', '-f', '-'], runbook('second'));
    await cli.waitForOutput('"job deleted"');
    cli.child.kill('SIGTERM');
    expect(await cli.exited, cli.output()).to.equal(0);
    const lines = cli
      .output()
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.map((line) => typeof line.level)).to.not.include('undefined');
    expect(lines.at(-1)).to.include({ level: 'info', message: 'operator stopped' });
    expect(
      lines.map((line) => line.level),
      'nothing to warn about',
    ).to.not.include('warn');
    const mine = (message: string) =>
      lines.filter((line) => line.message === message && line.runbook === `${namespace}/logged`);
    const [created] = mine('job created');
    expect(created).to.include({ generation: 1, execution: 'g1', stage: 'research', attempt: 1 });
    expect(created?.reconcileID).to.match(/^[0-9a-f-]{36}$/);
    expect(mine('job deleted')[0]).to.include({
      reason: 'SpecChanged',
      generation: 1,
      stage: 'research',
      attempt: 1,
    });
    expect(mine('job created').map((line) => line.generation)).to.deep.equal([1, 2]);
    const transitions = mine('run transition').map((line) => `${String(line.from)}->${String(line.to)}`);
    expect(transitions).to.deep.equal(['undefined->Running', 'undefined->Running']);
  });

  it('stops at start, naming the resource and the verb, when RBAC forbids what it needs', async () => {
    const plane = await sharedControlPlane();
    const namespace = await testNamespace(plane, 'cli-rbac');
    const admin = (...args: string[]) => mustRun(plane.adminKubeconfigPath, args);
    await admin('create', 'serviceaccount', 'powerless', '-n', namespace);
    // It may read runbooks but nothing else.
    await admin(
      'create',
      'role',
      'runbooks-only',
      '-n',
      namespace,
      '--verb=get,list,watch',
      '--resource=agentrunbooks.i2s.studio',
    );
    await admin(
      'create',
      'rolebinding',
      'runbooks-only',
      '-n',
      namespace,
      '--role=runbooks-only',
      `--serviceaccount=${namespace}:powerless`,
    );
    const token = (await admin('create', 'token', 'powerless', '-n', namespace)).trim();
    const cli = startCli([
      'operator',
      '--no-webhook',
      '--health-probe-bind-address=0',
      `--kubeconfig=${plane.kubeconfigForToken(`powerless-${namespace}`, token)}`,
      `--config=${CATALOG}`,
      `--namespace=${namespace}`,
    ]);
    expect(await cli.exited, cli.output()).to.equal(1);
    expect(cli.output()).to.contain('RBAC forbids');
    expect(cli.output()).to.contain(`list jobs.batch in namespace ${namespace}`);
    expect(cli.output()).to.contain(`create jobs.batch in namespace ${namespace}`);
    expect(cli.output()).to.contain(`update agentrunbooks/status.i2s.studio in namespace ${namespace}`);
    expect(cli.output()).not.to.contain(`list agentrunbooks.i2s.studio in namespace`);
  });

  it('refuses an invalid agent catalog with a message naming the problem', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'catalog-'));
    const bad = join(dir, 'catalog.yaml');
    writeFileSync(bad, 'agents:\n  - name: research\n    versions: "not a range !!"\n    image: x\n');
    const cli = startCli(['operator', '--kubeconfig=/dev/null', `--config=${bad}`]);
    expect(await cli.exited).to.equal(1);
    expect(cli.output()).to.contain('agents[0].versions is not a semver range');
  });

  it('refuses a --max-output-bytes above what one ConfigMap holds', async () => {
    const cli = startCli([
      'operator',
      '--kubeconfig=/dev/null',
      `--config=${CATALOG}`,
      '--max-output-bytes=2000000',
    ]);
    expect(await cli.exited).to.equal(1);
    expect(cli.output()).to.contain(
      '--max-output-bytes must be a whole number from 1 to 1048576 (what one ConfigMap holds), not 2000000',
    );
  });
});
