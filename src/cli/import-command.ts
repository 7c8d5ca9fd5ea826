/** `agentrunbook import`: the specification's runbook format as an AgentRunbook, saying what changed. */
import type { Command } from 'commander';
import { importRunbook } from '../generator/import.js';
import { render, withOutputFlag } from './cluster-flags.js';
import { readManifests } from './manifest-files.js';
import { checkManifest } from './runbook-check.js';

export function registerImportCommand(program: Command): void {
  withOutputFlag(
    program
      .command('import')
      .description(
        "Read a runbook in the specification's format (metadata.version and metadata.context, budgets: {tokens: N, cost: N}, money as numbers, fragments such as an agents section) and print a valid AgentRunbook; what was changed goes to stderr",
      )
      .argument('<file...>', 'YAML files, merged in order (- for stdin)')
      .option('--name <name>', 'name of the runbook (default: metadata.name, else from the context)'),
  ).action((files: string[], flags: { name?: string; output: string }) => {
    const { runbook, changes } = importRunbook(readManifests(files), {
      now: new Date(),
      ...(flags.name ? { name: flags.name } : {}),
    });
    for (const change of changes) process.stderr.write(`changed: ${change}\n`);
    const verdict = checkManifest(runbook);
    for (const warning of verdict.warnings) process.stderr.write(`Warning: ${warning}\n`);
    if (verdict.errors.length)
      throw new Error(`the imported runbook is still not valid:\n  ${verdict.errors.join('\n  ')}`);
    process.stdout.write(render(runbook, flags.output));
  });
}
