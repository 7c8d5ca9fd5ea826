/** `agentrunbook validate` and `convert`: offline, with the code the webhooks run. */
import { Option, type Command } from 'commander';
import { convertRunbook, V1, V2 } from '../api/conversion.js';
import { KIND } from '../api/group.js';
import { render, withOutputFlag } from './cluster-flags.js';
import { readManifests } from './manifest-files.js';
import { checkManifest } from './runbook-check.js';

export function registerValidateCommands(program: Command): void {
  program
    .command('validate')
    .description(
      'Check runbooks and templates offline, as the cluster would: the schema and every admission rule of the validating webhook, with its warnings',
    )
    .argument('<file...>', 'YAML or JSON files (- for stdin)')
    .action((files: string[]) => {
      let invalid = 0;
      for (const { source, object } of readManifests(files)) {
        const verdict = checkManifest(object);
        const what = `${source}: ${verdict.kind} ${verdict.name}`;
        for (const warning of verdict.warnings) process.stderr.write(`Warning: ${what}: ${warning}\n`);
        if (verdict.errors.length) {
          invalid += 1;
          process.stdout.write(`${what}: invalid\n${verdict.errors.map((error) => `  ${error}\n`).join('')}`);
        } else process.stdout.write(`${what}: valid\n`);
      }
      if (invalid) process.exitCode = 1;
    });

  withOutputFlag(
    program
      .command('convert')
      .description('Convert AgentRunbooks between i2s.studio/v1 and v2, as the conversion webhook does')
      .argument('<file...>', 'YAML or JSON files (- for stdin)')
      .addOption(
        new Option('--to <version>', 'the API version to write').choices(['v1', 'v2']).makeOptionMandatory(),
      ),
  ).action((files: string[], flags: { to: string; output: string }) => {
    const desired = flags.to === 'v1' ? V1 : V2;
    const converted = readManifests(files).map(({ source, object }) => {
      if (object.kind !== KIND) throw new Error(`${source}: not an ${KIND}`);
      try {
        return convertRunbook(object, desired);
      } catch (error) {
        throw new Error(`${source}: ${(error as Error).message}`);
      }
    });
    process.stdout.write(
      converted.map((object) => render(object, flags.output)).join(flags.output === 'json' ? '' : '---\n'),
    );
  });
}
