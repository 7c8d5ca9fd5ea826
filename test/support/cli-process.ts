/** Runs the `agentrunbook` command (from source, or built) as a child process and follows its output. */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../hack/local-cluster/paths.js';
import { buildOperatorBundle, BUNDLE_OUT } from '../../hack/build-operator.js';

export interface CliProcess {
  child: ReturnType<typeof spawn>;
  exited: Promise<number | null>;
  /** Resolves when the output contains `text`; rejects if the process exits first. */
  waitForOutput(text: string): Promise<void>;
  output(): string;
}

/** A word for sh -c: quoted, so arguments reach the command as they are. */
const shellWord = (word: string) => `'${word.replaceAll("'", "'\\''")}'`;

/**
 * With `terminal`, the command runs on a pseudo-terminal (util-linux script(1)), as it does when a
 * person types it: stdout is a TTY, and the exit code is the command's.
 */
/** The CLI as `npm run build` makes it and npm installs it (dist/cli/main.js), built once per test run. */
let built: string | undefined;
export function builtCli(): string {
  if (built) return built;
  execFileSync(
    process.execPath,
    [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: repoRoot,
      stdio: 'inherit',
    },
  );
  built = join(repoRoot, 'dist', 'cli', 'main.js');
  // npm makes a package's bin executable when it links it.
  chmodSync(built, 0o755);
  return built;
}

/** The CLI bundled as the operator image runs it (dist/bundle/main.js), built once per test run. */
let bundled: Promise<string> | undefined;
export function bundledCli(): Promise<string> {
  bundled ??= buildOperatorBundle().then(() => join(BUNDLE_OUT, 'main.js'));
  return bundled;
}

/**
 * With `built`, the built CLI runs (see builtCli) instead of the source through tsx; with `script`,
 * that script (e.g. bundledCli's).
 */
export function startCli(
  args: string[],
  options: { terminal?: boolean; built?: boolean; script?: string } = {},
): CliProcess {
  const script = options.script ?? (options.built ? builtCli() : undefined);
  const command = script
    ? [process.execPath, script, ...args]
    : [process.execPath, '--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts'), ...args];
  const child = options.terminal
    ? spawn('script', ['-qefc', command.map(shellWord).join(' '), '/dev/null'], {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'pipe'],
      })
    : spawn(command[0] ?? '', command.slice(1), { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
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

/**
 * `agentrunbook operator` as its own process (so a test can SIGKILL it): no webhook, no health
 * port, text logs, watching one namespace; `extra` adds flags (leader election).
 */
export function startOperatorProcess(
  options: { kubeconfig: string; config: string; namespace: string },
  extra: string[] = [],
): CliProcess {
  return startCli([
    'operator',
    ...extra,
    '--no-webhook',
    '--health-probe-bind-address=0',
    '--log-format=text',
    `--kubeconfig=${options.kubeconfig}`,
    `--config=${options.config}`,
    `--namespace=${options.namespace}`,
  ]);
}
