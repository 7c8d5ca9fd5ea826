/** `agentrunbook history` and `rollback`: a runbook's revisions (ControllerRevisions) and going back to one. */
import type { Command } from 'commander';
import semver from 'semver';
import { OPERATIONAL_FIELDS } from '../engine/versions/spec-changes.js';
import { listRevisions, type RunbookRevision } from '../controller/revisions.js';
import { withClusterFlags, type ClusterFlags } from './cluster-flags.js';
import { withRunbook } from './runbook-client.js';
import { table } from './table.js';

/** The revision `to` names: a revision number, or a spec.version (the newest revision that has it). */
function pick(revisions: readonly RunbookRevision[], to: string): RunbookRevision {
  const found = /^\d+$/.test(to)
    ? revisions.find((revision) => revision.number === Number(to))
    : revisions.filter((revision) => revision.version === semver.clean(to)).at(-1);
  if (!found) {
    const kept = revisions.map((revision) => `${revision.number} (${revision.version})`).join(', ');
    throw new Error(`no revision ${to}; the revisions kept are ${kept || 'none'}`);
  }
  return found;
}

export function registerHistoryCommands(program: Command): void {
  withClusterFlags(
    program
      .command('history <name>')
      .description(
        'List the revisions of a runbook: each spec it had, its version, and the semver bump of its change',
      ),
  ).action(async (name: string, flags: ClusterFlags) => {
    await withRunbook(name, flags, async (client) => {
      const runbook = await client.get();
      const revisions = await listRevisions(client.http, client.namespace, runbook.metadata.uid ?? '');
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
      const runbook = await client.get();
      const revision = pick(
        await listRevisions(client.http, client.namespace, runbook.metadata.uid ?? ''),
        flags.to,
      );
      const kept = Object.fromEntries(
        OPERATIONAL_FIELDS.flatMap((field) =>
          runbook.spec[field] === undefined ? [] : [[field, runbook.spec[field]]],
        ),
      );
      // An update with the resourceVersion read: a change made meanwhile fails it instead of being lost.
      await client.http.request({
        method: 'PUT',
        path: client.path,
        body: { ...runbook, spec: { ...revision.spec, ...kept } },
      });
      process.stdout.write(
        `agentrunbook.i2s.studio/${name} rolled back to revision ${revision.number} (version ${revision.version})\n`,
      );
    });
  });
}
