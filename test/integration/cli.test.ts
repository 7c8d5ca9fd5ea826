import { spawn } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { repoRoot } from '../../hack/local-cluster/paths.js';
import { installOperator, testNamespace } from '../support/operator-harness.js';
import { sharedControlPlane } from '../support/shared-control-plane.js';

const CATALOG = join(repoRoot, 'config', 'samples', 'operator-config.yaml');

function startCli(args: string[]) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts'), ...args],
    {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const listeners = new Set<() => void>();
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const waitForOutput = (text: string) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (output.includes(text)) {
          listeners.delete(check);
          resolve();
        }
      };
      void exited.then(() => {
        reject(new Error(`exited before printing ${text}:\n${output}`));
      });
      listeners.add(check);
      check();
    });
  return { child, exited, waitForOutput, output: () => output };
}

describe('agentrunbook operator (the CLI entry point)', function () {
  this.timeout(60_000);

  it('starts with a kubeconfig and exits 0 on SIGTERM after finishing its work', async () => {
    const plane = await sharedControlPlane();
    const kubeconfig = await installOperator(plane);
    const namespace = await testNamespace(plane, 'cli');
    // --no-webhook: a webhook registered on the shared control plane would outlive this test.
    const cli = startCli([
      'operator',
      '--no-webhook',
      `--kubeconfig=${kubeconfig}`,
      `--config=${CATALOG}`,
      `--namespace=${namespace}`,
    ]);
    await cli.waitForOutput('operator started');
    cli.child.kill('SIGTERM');
    expect(await cli.exited, cli.output()).to.equal(0);
    expect(cli.output()).to.contain('operator stopped');
  });

  it('refuses an invalid agent catalog with a message naming the problem', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'catalog-'));
    const bad = join(dir, 'catalog.yaml');
    writeFileSync(bad, 'agents:\n  - name: research\n    versions: "not a range !!"\n    image: x\n');
    const cli = startCli(['operator', '--kubeconfig=/dev/null', `--config=${bad}`]);
    expect(await cli.exited).to.equal(1);
    expect(cli.output()).to.contain('agents[0].versions is not a semver range');
  });
});
