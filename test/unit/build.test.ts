import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { expect } from 'chai';
import semver from 'semver';
import { repoRoot } from '../../hack/local-cluster/paths.js';
import { buildConsole, SCRIPT_BUDGET_GZIP_BYTES } from '../../hack/build-console.js';

const require = createRequire(import.meta.url);

interface PackageJson {
  engines: { node: string };
  bin: Record<string, string>;
}

describe('the production build', function () {
  this.timeout(120_000);
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as PackageJson;
  let outDir = '';

  before(() => {
    // Inside the repository, so the build finds node_modules as dist/ does.
    mkdirSync(join(repoRoot, '.scratch'), { recursive: true });
    outDir = mkdtempSync(join(repoRoot, '.scratch', 'build-'));
    execFileSync(
      process.execPath,
      [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', outDir],
      { cwd: repoRoot, stdio: 'pipe' },
    );
  });

  after(() => {
    rmSync(outDir, { recursive: true, force: true });
  });

  it('runs on the Node.js that package.json requires', () => {
    expect(semver.satisfies(process.versions.node, pkg.engines.node), process.versions.node).to.equal(true);
  });

  it('gives a working agentrunbook command that prints nothing on stderr', () => {
    const bin = pkg.bin.agentrunbook;
    expect(bin, 'package.json bin.agentrunbook').to.be.a('string');
    const entry = join(outDir, relative('dist', bin ?? ''));
    const help = spawnSync(process.execPath, [entry, 'operator', '--help'], { encoding: 'utf8' });
    expect(help.status, help.stderr).to.equal(0);
    expect(help.stderr).to.equal('');
    expect(help.stdout).to.contain('--leader-elect');
  });

  it("bundles the console's front end within its budget, loading nothing from another origin", async () => {
    const out = join(outDir, 'console-ui');
    const { gzipBytes } = await buildConsole(out);
    expect(gzipBytes).to.be.at.most(SCRIPT_BUDGET_GZIP_BYTES);
    const page = readFileSync(join(out, 'index.html'), 'utf8');
    expect([...page.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1])).to.deep.equal([
      '/app.css',
      '/app.js',
    ]);
    expect(readFileSync(join(out, 'app.js'), 'utf8')).to.not.match(
      /https?:\/\/(?:cdn|unpkg|esm\.sh|fonts\.)/,
    );
  });
});
