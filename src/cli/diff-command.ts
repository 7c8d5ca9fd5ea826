/** `agentrunbook diff` (the changes between two runbooks and the bump they need) and `optimize`. */
import type { Command } from 'commander';
import { isObject } from '../api/json.js';
import type { SpecV2 } from '../api/v2/runbook.js';
import { bumpBetween, bumpOf, bumpRank, nextVersion, specChanges } from '../engine/versions/spec-changes.js';
import { optimizeRunbook } from '../generator/optimize.js';
import { render, withOutputFlag } from './cluster-flags.js';
import { readManifest } from './manifest-files.js';
import { asV2, checkManifest } from './runbook-check.js';

/** The v2 spec of a valid runbook file; an invalid one is an error listing why. */
function validSpec(path: string): { object: Record<string, unknown>; spec: SpecV2 } {
  const { source, object } = readManifest(path);
  const verdict = checkManifest(object);
  if (verdict.errors.length)
    throw new Error(`${source} is not a valid runbook:\n  ${verdict.errors.join('\n  ')}`);
  const runbook = asV2(object);
  if (!isObject(runbook.spec)) throw new Error(`${source} has no spec`);
  return { object: runbook, spec: runbook.spec as unknown as SpecV2 };
}

export function registerDiffCommands(program: Command): void {
  program
    .command('diff')
    .description(
      'Say what changed between two versions of a runbook, and the semver bump it needs (docs/versioning.md)',
    )
    .argument('<old>', 'the runbook before')
    .argument('<new>', 'the runbook after')
    .action((oldPath: string, newPath: string) => {
      const old = validSpec(oldPath).spec;
      const next = validSpec(newPath).spec;
      const changes = specChanges(old, next);
      for (const change of changes)
        process.stdout.write(`${change.class.padEnd(8)}  ${change.field}: ${change.message}\n`);
      const needed = bumpOf(changes);
      const made = bumpBetween(old.version, next.version);
      process.stdout.write(
        changes.length
          ? `bump: ${needed} (${old.version} -> ${nextVersion(old.version, needed)}); spec.version went ${old.version} -> ${next.version}, a ${made} bump\n`
          : 'no change to the runbook\n',
      );
      if (bumpRank(made) < bumpRank(needed)) process.exitCode = 1;
    });

  withOutputFlag(
    program
      .command('optimize')
      .description(
        'Report what in a runbook does nothing or holds the run back; --write prints the runbook with the fixes',
      )
      .argument('<file>', 'the runbook')
      .option('--write', 'print the optimized runbook instead of the report'),
  ).action((path: string, flags: { write?: boolean; output: string }) => {
    const { object, spec } = validSpec(path);
    const { spec: optimized, findings } = optimizeRunbook(spec);
    if (!flags.write) {
      for (const finding of findings)
        process.stdout.write(`${finding.rule}  ${finding.field}: ${finding.message}\n`);
      process.stdout.write(findings.length ? `${findings.length} findings\n` : 'nothing to optimize\n');
      return;
    }
    for (const finding of findings) process.stderr.write(`fixed: ${finding.field}: ${finding.message}\n`);
    process.stdout.write(render({ ...object, spec: optimized }, flags.output));
  });
}
