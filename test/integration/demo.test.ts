import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { repoRoot } from '../../hack/local-cluster/paths.js';

function runDemo(): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(repoRoot, 'hack', 'demo.ts'), '--exit-when-done'],
      {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('close', (code) => {
      resolve({ code, output });
    });
  });
}

/** The README's commands to run while the demo runs (its block marked `sh after-demo`). */
function afterDemoCommands(): string {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const block = /^```sh after-demo\n([\s\S]*?)^```$/m.exec(readme)?.[1];
  if (!block) throw new Error('README.md has no sh after-demo block');
  return block;
}

describe('make demo', function () {
  this.timeout(300_000);

  it('runs every example runbook to Succeeded with the reference agent, passing outputs between stages', async () => {
    const { code, output } = await runDemo();
    expect(code, output).to.equal(0);
    const watched = output.slice(0, output.indexOf('all runbooks finished'));
    const finalTable = watched.slice(watched.lastIndexOf('\nNAME '));
    for (const name of [
      'ai-task-manager-base',
      'ai-task-manager-runbook',
      'idea-123-runbook',
      'market-scan',
      'normalize-research',
      'cached-research',
      'fan-out-research',
      'competitor-brief',
    ]) {
      expect(finalTable).to.match(new RegExp(`${name}\\s+Succeeded`));
    }
    // research stages ran from the namespace's Agent object, synthesis from the ClusterAgent.
    expect(output)
      .to.contain('agent.i2s.studio/research created')
      .and.contain('clusteragent.i2s.studio/synthesis created');
    expect(output).to.match(
      /agent\.i2s\.studio\/research\s+ghcr\.io\/i2s-studio\/agentrunbook-agent:0\.1\.0\s+>=1\.0\.0 <2\.0\.0\s+True\s+closed\s+[1-9]/,
    );
    // kubectl logs reaches the agent's output through the API server and the fake node.
    expect(output).to.match(/reference agent: stage research: outputs .*tokens/);
    expect(output).to.match(/The console \(the runbooks, .*\): http:\/\/127\.0\.0\.1:\d+\//);
    // The fan-out: 20 items profiled, the security review skipped by its when condition.
    const fanned = output.slice(output.indexOf('agentrunbook get fan-out-research'));
    expect(fanned).to.match(/✔ profile\s+Succeeded\s+20\/20 items\s.*all 20 items succeeded/);
    expect(fanned).to.match(/○ security-review\s+Skipped\s+-.*when riskLevel > 7 is false/);
    expect(fanned).to.match(
      /✔ brief\s+Succeeded\s+1\s.*child runbook fan-out-research-brief-[0-9a-f]+ succeeded/,
    );
    expect(fanned).to.match(/Phase:\s+Succeeded\s+\(5\/5 stages\)/);
    expect(fanned, "the child's stages under brief").to.match(/│ {2}├─ ✔ outline\s+Succeeded\s+1\s/);
    expect(fanned).to.match(/│ {2}└─ ✔ draft\s+Succeeded\s+1\s/);
    // The cached rerun: research and analyze reused, write run, what it saved, and the metrics.
    const cached = output.slice(output.indexOf('agentrunbook get cached-research'));
    expect(cached).to.match(/Saved:\s+[\d,]+ tokens, \$[\d.]+ {2}\(2 stages reused from the cache\)/);
    expect(cached).to.match(/✔ research\s+Succeeded\s+cached/);
    expect(cached).to.match(/✔ write\s+Succeeded\s+1\s/);
    expect(cached).to.match(/agentrunbook_cache_hits_total\{namespace="demo"\} 2\n/);
    expect(cached).to.match(/agentrunbook_cache_misses_total\{namespace="demo"\} 4\n/);
    // research's report quotes the normalized idea it was handed.
    expect(output).to.match(/research Succeeded: .*research: \{\\?"summary\\?":\\?"normalize: /);
  });

  it('keeps running for the README’s look-around commands, which work as written, until Ctrl-C', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'hack', 'demo.ts')], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const running = new Promise<void>((resolve, reject) => {
      const seen = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('the demo keeps running')) resolve();
      };
      child.stdout.on('data', seen);
      child.stderr.on('data', seen);
      child.on('close', (code) => {
        reject(new Error(`the demo stopped (${String(code)}) before it said it keeps running:\n${output}`));
      });
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      await running;
      // As the demo says: export KUBECONFIG=..., alias kubectl=...
      const kubeconfig = /export KUBECONFIG=(\S+)/.exec(output)?.[1] ?? '';
      const kubectlPath = /alias kubectl=(\S+)/.exec(output)?.[1] ?? '';
      const bin = mkdtempSync(join(tmpdir(), 'after-demo-'));
      symlinkSync(kubectlPath, join(bin, 'kubectl'));
      const looked = spawnSync('bash', ['-euo', 'pipefail', '-c', afterDemoCommands()], {
        cwd: repoRoot,
        encoding: 'utf8',
        env: { ...process.env, KUBECONFIG: kubeconfig, PATH: `${bin}:${process.env.PATH ?? ''}` },
      });
      expect(looked.status, `${looked.stdout}${looked.stderr}`).to.equal(0);
      expect(looked.stdout).to.match(/Events:[\s\S]*Normal/);
      expect(looked.stdout).to.match(/job\.batch\/normalize-research-/);
      expect(looked.stdout).to.match(/Phase:\s+Succeeded/);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).to.equal(0);
  });
});
