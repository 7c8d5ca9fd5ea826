/**
 * `make dist`: the CLI as users install it, into dist/release/:
 *   agentrunbook-operator-<version>.tgz          npm install -g of it gives agentrunbook,
 *                                                kubectl-agentrunbook and kubectl_complete-agentrunbook
 *   agentrunbook-<os>-<arch>                     standalone executables that need no Node.js
 *                                                (linux amd64/arm64, darwin amd64/arm64; Bun's --compile)
 *   kubectl-agentrunbook_<os>_<arch>.tar.gz      what krew installs: the executable as
 *                                                kubectl-agentrunbook, its completer link, LICENSE
 *   agentrunbook.yaml                            the krew plugin manifest, with the archives' sha256
 *   SHA256SUMS
 * `--targets linux-amd64` builds only those executables (the tests use it); `--no-pack` skips the
 * npm package.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { repoRoot } from './local-cluster/paths.js';
import { stripMachOSignature } from './macho.js';

export const TARGETS = ['linux-amd64', 'linux-arm64', 'darwin-amd64', 'darwin-arm64'] as const;
export type Target = (typeof TARGETS)[number];

export const RELEASE_DIR = join(repoRoot, 'dist', 'release');
const HOMEPAGE = 'https://github.com/i2s-studio/agentrunbook-operator';
const ENTRY = join(repoRoot, 'hack', 'standalone-entry.ts');

const { version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };

/** Bun names its targets by its own words for the architectures. */
const bunTarget = (target: Target) => `bun-${target.replace('amd64', 'x64')}`;
export const executableName = (target: Target) => `agentrunbook-${target}`;
export const archiveName = (target: Target) => `kubectl-agentrunbook_${target.replace('-', '_')}.tar.gz`;

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

function run(command: string, args: string[]): void {
  execFileSync(command, args, { cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit'] });
}

/** npm pack of the built package: what `npm install -g` installs. */
function pack(): string {
  run('npm', ['run', 'build']);
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', RELEASE_DIR], {
    cwd: repoRoot,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [{ filename }] = JSON.parse(out) as [{ filename: string }];
  return filename;
}

/**
 * One standalone executable. Bun signs its darwin-arm64 output ad hoc, as Apple silicon requires;
 * its darwin-x64 output keeps Bun's own signature, which the appended program invalidates, so it
 * is removed (Intel Macs run unsigned executables; one with a broken signature is killed).
 */
function compile(target: Target): string {
  const out = join(RELEASE_DIR, executableName(target));
  run(join(repoRoot, 'node_modules', '.bin', 'bun'), [
    'build',
    '--compile',
    `--target=${bunTarget(target)}`,
    ENTRY,
    '--outfile',
    out,
  ]);
  if (target === 'darwin-amd64') stripMachOSignature(out);
  chmodSync(out, 0o755);
  return out;
}

/** The archive krew downloads: the executable under the plugin's name, its completer, the licence. */
function archive(target: Target, executable: string): string {
  const staging = join(RELEASE_DIR, `.staging-${target}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  copyFileSync(executable, join(staging, 'kubectl-agentrunbook'));
  symlinkSync('kubectl-agentrunbook', join(staging, 'kubectl_complete-agentrunbook'));
  copyFileSync(join(repoRoot, 'LICENSE'), join(staging, 'LICENSE'));
  const out = join(RELEASE_DIR, archiveName(target));
  run('tar', [
    '--sort=name',
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    '--mtime=@0',
    '-czf',
    out,
    '-C',
    staging,
    'kubectl-agentrunbook',
    'kubectl_complete-agentrunbook',
    'LICENSE',
  ]);
  rmSync(staging, { recursive: true, force: true });
  return out;
}

/** krew's Plugin manifest (krew.sigs.k8s.io/v1alpha2), one platform per archive. */
export function krewManifest(archives: { target: Target; sha256: string }[]): unknown {
  return {
    apiVersion: 'krew.googlecontainertools.github.com/v1alpha2',
    kind: 'Plugin',
    metadata: { name: 'agentrunbook' },
    spec: {
      version: `v${version}`,
      homepage: HOMEPAGE,
      shortDescription: 'Run and follow AI-agent runbooks (AgentRunbook)',
      description:
        'Lists, follows, approves, retries and validates i2s.studio AgentRunbooks: the CLI of the AgentRunbook operator, which runs each agent stage as a Kubernetes Job.',
      platforms: archives.map(({ target, sha256: digest }) => {
        const [os, arch] = target.split('-') as [string, string];
        return {
          selector: { matchLabels: { os, arch } },
          uri: `${HOMEPAGE}/releases/download/v${version}/${archiveName(target)}`,
          sha256: digest,
          bin: 'kubectl-agentrunbook',
        };
      }),
    },
  };
}

function main(): void {
  const { values } = parseArgs({
    options: { targets: { type: 'string' }, 'no-pack': { type: 'boolean' } },
  });
  const targets = (values.targets?.split(',') ?? [...TARGETS]) as Target[];
  for (const target of targets)
    if (!(TARGETS as readonly string[]).includes(target))
      throw new Error(`unknown target ${target}; the targets are ${TARGETS.join(', ')}`);
  rmSync(RELEASE_DIR, { recursive: true, force: true });
  mkdirSync(RELEASE_DIR, { recursive: true });
  const files: string[] = [];
  if (!values['no-pack']) files.push(join(RELEASE_DIR, pack()));
  const archives = targets.map((target) => {
    const executable = compile(target);
    const made = archive(target, executable);
    files.push(executable, made);
    return { target, sha256: sha256(made) };
  });
  const manifest = join(RELEASE_DIR, 'agentrunbook.yaml');
  writeFileSync(manifest, stringify(krewManifest(archives), { lineWidth: 0 }));
  files.push(manifest);
  writeFileSync(
    join(RELEASE_DIR, 'SHA256SUMS'),
    files.map((file) => `${sha256(file)}  ${file.slice(RELEASE_DIR.length + 1)}\n`).join(''),
  );
  for (const file of files) console.log(file.slice(repoRoot.length + 1));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
