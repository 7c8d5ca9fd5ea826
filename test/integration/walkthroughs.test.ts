/**
 * Every walkthrough of the docs (a fenced block marked `sh walkthrough`), run as written by bash
 * with the built `agentrunbook` and kubectl on PATH, against a control plane with the operator,
 * its webhooks and the template library.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { kubectl, layerBinary } from '../../hack/local-cluster/tools.js';
import { repoRoot } from '../../hack/local-cluster/paths.js';
import { builtCli } from '../support/cli-process.js';
import { RunbookEnv } from '../support/runbook-env.js';
import { LIBRARY_CATALOG, succeedWithDeclaredOutputs } from '../support/scripted-agents.js';

const WALKTHROUGH = /^```sh walkthrough\n([\s\S]*?)^```$/gm;
const LONGEST_WALKTHROUGH_MS = 240_000;

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? markdownFiles(join(dir, entry.name))
      : entry.name.endsWith('.md')
        ? [join(dir, entry.name)]
        : [],
  );
}

const walkthroughs = [join(repoRoot, 'README.md'), ...markdownFiles(join(repoRoot, 'docs'))].flatMap((file) =>
  [...readFileSync(file, 'utf8').matchAll(WALKTHROUGH)].map((match, index) => ({
    where: `${relative(repoRoot, file)} #${index + 1}`,
    script: match[1] ?? '',
  })),
);

/** Runs a script as a user's shell would, stopping at the first command that fails. */
function bash(script: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-euo', 'pipefail', '-c', script], { env, cwd: repoRoot });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), LONGEST_WALKTHROUGH_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('the docs’ walkthroughs, run as written', function () {
  this.timeout(LONGEST_WALKTHROUGH_MS + 120_000);
  const env = new RunbookEnv('walkthrough', LIBRARY_CATALOG, { webhook: true });
  const shellEnv: NodeJS.ProcessEnv = {};

  before(async () => {
    await env.start();
    env.script = succeedWithDeclaredOutputs;
    const applied = await env.k('apply', '-k', join(repoRoot, 'config', 'templates'));
    expect(applied.code, applied.stderr).to.equal(0);
    // A user's shell: the CLI as installed, kubectl, and a kubeconfig whose context is the namespace.
    const home = mkdtempSync(join(tmpdir(), 'walkthrough-'));
    const bin = join(home, 'bin');
    const kubeconfig = join(home, 'kubeconfig');
    copyFileSync(env.plane.adminKubeconfigPath, kubeconfig);
    mkdirSync(bin);
    symlinkSync(builtCli(), join(bin, 'agentrunbook'));
    symlinkSync(layerBinary('kubectl'), join(bin, 'kubectl'));
    Object.assign(shellEnv, {
      HOME: home,
      PATH: `${bin}:${process.env.PATH ?? ''}`,
      KUBECONFIG: kubeconfig,
    });
    const context = await kubectl(kubeconfig, [
      'config',
      'set-context',
      '--current',
      `--namespace=${env.namespace}`,
    ]);
    expect(context.code, context.stderr).to.equal(0);
  });
  after(() => env.stop());

  it('finds the walkthroughs (docs/cli.md has one)', () => {
    expect(walkthroughs.map((walkthrough) => walkthrough.where)).to.include('docs/cli.md #1');
  });

  for (const { where, script } of walkthroughs) {
    it(`${where} runs to its end, every command succeeding`, async () => {
      const { code, output } = await bash(script, shellEnv);
      expect(code, `${where}:\n${output}`).to.equal(0);
    });
  }

  it('left the walkthrough’s runbook rolled back to 1.0.0', async () => {
    const got = await env.k(
      '-n',
      env.namespace,
      'get',
      'agentrunbook',
      'ai-task-manager',
      '-o',
      'jsonpath={.spec.version}',
    );
    expect(got.stdout).to.equal('1.0.0');
  });
});
