/** `agentrunbook history` and `rollback`: a runbook's revisions (ControllerRevisions) and going back to one. */
import type { Command } from 'commander';
import { withClusterFlags, type ClusterFlags } from './cluster-flags.js';
import { withRunbook } from './runbook-client.js';
import { table } from './table.js';

export function registerHistoryCommands(program: Command): void {
  withClusterFlags(
    program
      .command('history <name>')
      .description(
        'List the revisions of a runbook: each spec it had, its version, and the semver bump of its change',
      ),
  ).action(async (name: string, flags: ClusterFlags) => {
    await withRunbook(name, flags, async (client) => {
      const [runbook, revisions] = await Promise.all([client.get(), client.revisions()]);
      const current = runbook.status?.revision?.name;
      const rows = revisions.map((revision) => [
        `${revision.name === current ? '*' : ' '}${revision.number}`,
        revision.version,
        revision.bump,
        revision.created,
        revision.changes.length
          ? `${revision.changes[0] ?? ''}${revision.changes.length > 1 ? ` (+${revision.changes.length - 1} more)` : ''}`
          : revision.number === revisions[0]?.number
            ? 'first revision kept'
            : '-',
      ]);
      process.stdout.write(table([[' REVISION', 'VERSION', 'BUMP', 'CREATED', 'CHANGES'], ...rows]));
    });
  });

  withClusterFlags(
    program
      .command('rollback <name>')
      .description(
        'Put back the spec of an earlier revision (suspend and cancel stay as they are); it runs as a new revision',
      )
      .requiredOption('--to <version>', 'a revision number, or a spec.version (its newest revision)'),
  ).action(async (name: string, flags: ClusterFlags & { to: string }) => {
    await withRunbook(name, flags, async (client) => {
      const revision = await client.rollback(flags.to);
      process.stdout.write(
        `agentrunbook.i2s.studio/${name} rolled back to revision ${revision.number} (version ${revision.version})\n`,
      );
    });
  });
}
