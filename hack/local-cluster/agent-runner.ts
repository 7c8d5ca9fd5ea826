/**
 * The demo's node runs agent Pods as local processes: the container's environment and the files
 * of its volume (in a directory named by AGENT_FILES_DIR) are handed to the reference agent
 * (src/agent/main.ts), and what it writes as its report becomes the Pod's
 * termination message, exactly as a kubelet would pass it on; what it prints is the Pod's log.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { ENV } from '../../src/api/agent-contract.js';
import type { PodResult } from './fake-node.js';
import { repoRoot } from './paths.js';
import { writeFiles, type Mounted } from './pod-volumes.js';

export interface AgentRunnerOptions {
  /** Extra environment for every agent, e.g. REFERENCE_AGENT_DELAY_MS. */
  env?: Record<string, string>;
  /** The agent's program under src/agent/: the reference agent's main.ts by default. */
  program?: string;
  /** Another program to run instead (e.g. a Python agent): its command line. */
  command?: [string, ...string[]];
}

export function runAgentPod(
  pod: V1Pod,
  given: Mounted,
  options: AgentRunnerOptions = {},
): Promise<PodResult> {
  const dir = mkdtempSync(join(tmpdir(), 'agentrunbook-agent-'));
  const reportPath = join(dir, 'termination-log');
  writeFiles(join(dir, 'files'), given.files);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    ...options.env,
    ...given.env,
    [ENV.reportPath]: reportPath,
    [ENV.filesDir]: join(dir, 'files'),
  };
  return new Promise((resolve) => {
    const [program, ...args] = options.command ?? [
      process.execPath,
      '--import',
      'tsx',
      join(repoRoot, 'src', 'agent', options.program ?? 'main.ts'),
    ];
    const child = spawn(program, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    // What the container writes is its log, which the fake node serves as a kubelet would.
    let logs = '';
    child.stdout.on('data', (chunk: Buffer) => (logs += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (logs += chunk.toString()));
    child.on('close', (code) => {
      let message: string | undefined;
      try {
        message = readFileSync(reportPath, 'utf8');
      } catch {
        message = undefined; // the agent wrote no report: the operator says TerminationMessageMissing
      }
      rmSync(dir, { recursive: true, force: true });
      resolve(
        code === 0
          ? { phase: 'Succeeded', logs, ...(message === undefined ? {} : { message }) }
          : { phase: 'Failed', exitCode: code ?? 1, logs, ...(message === undefined ? {} : { message }) },
      );
    });
  });
}
