/**
 * The CLI as a user installs it: `make dist`'s files, the README's install lines run as written
 * (each in a home of its own), then `kubectl agentrunbook list -A` against a real API server, the
 * standalone executable with no Node.js on PATH. The darwin executables' signatures and the krew
 * manifest are checked as macOS and krew would.
 */
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import type { AgentCatalog } from '../../src/api/catalog.js';
import { VERSION } from '../../src/version.js';
import { archiveName, executableName, RELEASE_DIR, type Target } from '../../hack/dist.js';
import { checkMachOSignature } from '../../hack/macho.js';
import { repoRoot } from '../../hack/local-cluster/paths.js';
import { layerBinary } from '../../hack/local-cluster/tools.js';
import { RunbookEnv, runbook } from '../support/runbook-env.js';
import { eventually } from '../support/eventually.js';

const TARGETS: Target[] = ['linux-amd64', 'darwin-arm64', 'darwin-amd64'];
const CATALOG: AgentCatalog = { agents: [{ name: 'a', image: 'registry.example/agents/a:1.0.0' }] };

/** The README's lines that install the CLI, as written. */
function readmeInstallLines(): string[] {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const block = [...readme.matchAll(/^```sh\n([\s\S]*?)^```$/gm)]
    .map((match) => match[1] ?? '')
    .find((text) => text.includes('npm install -g dist/release/'));
  if (!block) throw new Error('README.md has no block with the CLI install lines');
  return block.split('\n').filter((line) => line.trim() && !line.startsWith('#'));
}

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('installing the CLI as the README says: npm, the standalone executable, krew', function () {
  this.timeout(600_000);
  const env = new RunbookEnv('cli-install', CATALOG);

  before(async () => {
    execFileSync(
      process.execPath,
      ['--import', 'tsx', join(repoRoot, 'hack', 'dist.ts'), `--targets=${TARGETS.join(',')}`],
      {
        cwd: repoRoot,
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    await env.start();
    await env.apply(runbook('installed', 'pipeline', [{ name: 'a' }]));
  });
  after(() => env.stop());

  /** A home of its own for one install line: npm's global prefix and ~/.local/bin in it. */
  function installAsWritten(line: string) {
    const home = mkdtempSync(join(tmpdir(), 'cli-install-'));
    const prefix = join(home, 'npm-global');
    const bins = [join(prefix, 'bin'), join(home, '.local', 'bin')];
    const shellEnv = {
      ...process.env,
      HOME: home,
      npm_config_prefix: prefix,
      PATH: [...bins, process.env.PATH ?? ''].join(':'),
    };
    const installed = spawnSync('bash', ['-euo', 'pipefail', '-c', line], {
      cwd: repoRoot,
      env: shellEnv,
      encoding: 'utf8',
    });
    expect(installed.status, `${line}\n${installed.stdout}${installed.stderr}`).to.equal(0);
    return { home, bins, shellEnv };
  }

  /** kubectl with only `path` to find its plugin on, and the test's kubeconfig. */
  function kubectlPlugin(path: string[], ...args: string[]) {
    const kubectlDir = mkdtempSync(join(tmpdir(), 'kubectl-'));
    symlinkSync(layerBinary('kubectl'), join(kubectlDir, 'kubectl'));
    return spawnSync('kubectl', ['agentrunbook', ...args], {
      encoding: 'utf8',
      env: {
        PATH: [...path, kubectlDir].join(':'),
        KUBECONFIG: env.plane.adminKubeconfigPath,
        HOME: tmpdir(),
      },
    });
  }

  it('npm install -g of the package links all three names, and kubectl agentrunbook list -A works', async () => {
    const line = readmeInstallLines().find((candidate) => candidate.startsWith('npm install -g'));
    expect(line).to.equal(`npm install -g dist/release/agentrunbook-operator-${VERSION}.tgz`);
    const { bins, shellEnv } = installAsWritten(line ?? '');
    for (const name of ['agentrunbook', 'kubectl-agentrunbook']) {
      const version = spawnSync(name, ['--version'], { env: shellEnv, encoding: 'utf8' });
      expect(version.status, `${name}: ${version.stderr}`).to.equal(0);
      expect(version.stdout).to.contain(VERSION);
    }
    // kubectl asks the completer to complete `kubectl agentrunbook li`.
    const completed = spawnSync('kubectl_complete-agentrunbook', ['li'], { env: shellEnv, encoding: 'utf8' });
    expect(completed.stdout).to.match(/^list\b/m);
    await eventually(() =>
      Promise.resolve().then(() => {
        // node itself must be on PATH here: the package runs on the user's Node.js.
        const listed = kubectlPlugin([...bins, dirname(process.execPath)], 'list', '-A');
        expect(listed.status, listed.stderr).to.equal(0);
        expect(listed.stdout).to.match(new RegExp(`${env.namespace}\\s+installed\\b`));
      }),
    );
  });

  it('the standalone executable, installed as written, runs as a kubectl plugin with no Node.js on PATH', async () => {
    const lines = readmeInstallLines().filter((candidate) => !candidate.startsWith('npm install -g'));
    expect(lines.join('\n')).to.contain(`dist/release/${executableName('linux-amd64')}`);
    const { bins } = installAsWritten(lines.join('\n'));
    const local = bins[1] ?? '';
    await eventually(() =>
      Promise.resolve().then(() => {
        const listed = kubectlPlugin([local], 'list', '-A');
        expect(listed.status, listed.stderr).to.equal(0);
        expect(listed.stdout).to.match(new RegExp(`${env.namespace}\\s+installed\\b`));
      }),
    );
    const completion = spawnSync(join(local, 'kubectl_complete-agentrunbook'), ['li'], {
      encoding: 'utf8',
      env: { PATH: local },
    });
    expect(completion.stdout).to.match(/^list\b/m);
    // A native executable: ELF, 64-bit, x86-64 (not a script that a node on PATH would run).
    const header = readFileSync(join(local, 'kubectl-agentrunbook')).subarray(0, 20);
    expect(header.subarray(0, 4).toString('latin1')).to.equal('\x7fELF');
    expect(header[4], 'ELFCLASS64').to.equal(2);
    expect(header.readUInt16LE(18), 'EM_X86_64').to.equal(0x3e);
  });

  it('signs the darwin executables as macOS requires, and the krew manifest names each archive by its sha256', () => {
    const arm = checkMachOSignature(join(RELEASE_DIR, executableName('darwin-arm64')));
    expect(arm).to.include({ signed: true, adhoc: true, badPages: 0, coversFile: true });
    // Intel Macs run an unsigned executable, but kill one whose signature is wrong.
    expect(checkMachOSignature(join(RELEASE_DIR, executableName('darwin-amd64'))).signed).to.equal(false);
    const manifest = parse(readFileSync(join(RELEASE_DIR, 'agentrunbook.yaml'), 'utf8')) as {
      spec: {
        version: string;
        platforms: { selector: { matchLabels: { os: string; arch: string } }; sha256: string; uri: string }[];
      };
    };
    expect(manifest.spec.version).to.equal(`v${VERSION}`);
    for (const target of TARGETS) {
      const [os, arch] = target.split('-');
      const platform = manifest.spec.platforms.find(
        (each) => each.selector.matchLabels.os === os && each.selector.matchLabels.arch === arch,
      );
      expect(platform?.sha256, target).to.equal(sha256(join(RELEASE_DIR, archiveName(target))));
      expect(platform?.uri).to.match(new RegExp(`/${archiveName(target)}$`));
    }
    const listing = execFileSync('tar', ['-tvzf', join(RELEASE_DIR, archiveName('linux-amd64'))], {
      encoding: 'utf8',
    });
    expect(listing)
      .to.match(/kubectl-agentrunbook\n/)
      .and.match(/kubectl_complete-agentrunbook -> kubectl-agentrunbook/);
    const sums = readFileSync(join(RELEASE_DIR, 'SHA256SUMS'), 'utf8');
    expect(sums).to.contain(
      `${sha256(join(RELEASE_DIR, executableName('linux-amd64')))}  ${executableName('linux-amd64')}`,
    );
  });
});
