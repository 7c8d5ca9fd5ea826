/**
 * The commands over many runbooks or their lifecycle, as `argo list`, `kubectl delete` and
 * `argo suspend` are used: list, describe, delete, suspend, resume.
 */
import { Option, type Command } from 'commander';
import { GROUP, PLURAL, STORAGE_VERSION } from '../api/group.js';
import { formatMicros, moneyMicros } from '../api/grammar.js';
import { runbooksPath } from '../client/runbook-actions.js';
import type { AgentRunbookJson } from '../kube/types.js';
import { connect, render, withClusterFlags, type ClusterFlags } from './cluster-flags.js';
import { renderRunTree, shortDuration } from './run-tree.js';
import { withRunbook } from './runbook-client.js';
import { table } from './table.js';
import { compareText } from '../api/text.js';

interface ListFlags extends ClusterFlags {
  allNamespaces?: boolean;
  selector?: string;
  fieldSelector?: string;
  output?: string;
}

const RESOURCE = `agentrunbook.${GROUP}`;

const ready = (runbook: AgentRunbookJson) =>
  runbook.status?.conditions?.find((condition) => condition.type === 'Ready');

function age(from: string | undefined, to: number): string {
  const start = Date.parse(from ?? '');
  return Number.isNaN(start) ? '-' : shortDuration(to - start);
}

function duration(runbook: AgentRunbookJson, now: number): string {
  const start = Date.parse(runbook.status?.startTime ?? '');
  if (Number.isNaN(start)) return '-';
  const end = Date.parse(runbook.status?.completionTime ?? '');
  return shortDuration((Number.isNaN(end) ? now : end) - start);
}

const cost = (value: string | undefined) =>
  value === undefined ? '-' : `$${formatMicros(moneyMicros(value))}`;

/** The rows of `list`: argo list's columns, with usage; wide adds the reason and message. */
export function listRows(
  runbooks: readonly AgentRunbookJson[],
  options: { allNamespaces: boolean; wide: boolean },
  now: number,
): string[][] {
  const header = [
    ...(options.allNamespaces ? ['NAMESPACE'] : []),
    'NAME',
    'PHASE',
    'PROGRESS',
    'AGE',
    'DURATION',
    'TOKENS',
    'COST',
    ...(options.wide ? ['REASON', 'MESSAGE'] : []),
  ];
  const rows = runbooks.map((runbook) => [
    ...(options.allNamespaces ? [runbook.metadata.namespace ?? ''] : []),
    runbook.metadata.name ?? '',
    runbook.status?.phase ?? 'Pending',
    runbook.status?.progress ?? '-',
    age(runbook.metadata.creationTimestamp, now),
    duration(runbook, now),
    String(runbook.status?.usage?.tokens ?? 0),
    cost(runbook.status?.usage?.costUSD),
    ...(options.wide ? [ready(runbook)?.reason ?? '-', ready(runbook)?.message ?? '-'] : []),
  ]);
  return [header, ...rows];
}

async function listRunbooks(
  flags: ListFlags,
): Promise<{ apiVersion: string; kind: string; items: AgentRunbookJson[] }> {
  const { http, namespace } = await connect(flags);
  try {
    const path = flags.allNamespaces
      ? `/apis/${GROUP}/${STORAGE_VERSION}/${PLURAL}`
      : runbooksPath(namespace);
    const query: Record<string, string> = {
      ...(flags.selector ? { labelSelector: flags.selector } : {}),
      ...(flags.fieldSelector ? { fieldSelector: flags.fieldSelector } : {}),
    };
    const list = await http.request<{ items?: AgentRunbookJson[] }>({ method: 'GET', path, query });
    const items = (list.items ?? []).sort(
      (a, b) =>
        compareText(a.metadata.namespace ?? '', b.metadata.namespace ?? '') ||
        compareText(a.metadata.name ?? '', b.metadata.name ?? ''),
    );
    return { apiVersion: `${GROUP}/${STORAGE_VERSION}`, kind: 'AgentRunbookList', items };
  } finally {
    http.close();
  }
}

/** What `describe` prints: the run's tree, its conditions and its recent Events. */
async function describe(name: string, flags: ClusterFlags): Promise<string> {
  return withRunbook(name, flags, async (client) => {
    const runbook = await client.get();
    const children = await client.children(runbook.metadata.uid);
    const now = new Date();
    const conditions = (runbook.status?.conditions ?? []).map((condition) => [
      condition.type,
      condition.status,
      condition.reason,
      condition.message,
    ]);
    const events = await client.http
      .request<{ items?: EventJson[] }>({
        method: 'GET',
        path: `/api/v1/namespaces/${client.namespace}/events`,
        query: { fieldSelector: `involvedObject.uid=${runbook.metadata.uid ?? ''}` },
      })
      .then((list) => list.items ?? [])
      .catch(() => [] as EventJson[]);
    const eventRows = events
      .sort((a, b) => Date.parse(eventTime(a)) - Date.parse(eventTime(b)))
      .slice(-20)
      .map((event) => [
        event.type ?? '',
        event.reason ?? '',
        age(eventTime(event), now.getTime()),
        event.message ?? '',
      ]);
    return [
      renderRunTree(runbook, now, children),
      'Conditions:',
      conditions.length ? table([['TYPE', 'STATUS', 'REASON', 'MESSAGE'], ...conditions]) : '  <none>\n',
      'Events:',
      eventRows.length ? table([['TYPE', 'REASON', 'AGE', 'MESSAGE'], ...eventRows]) : '  <none>\n',
    ].join('\n');
  });
}

interface EventJson {
  type?: string;
  reason?: string;
  message?: string;
  lastTimestamp?: string;
  eventTime?: string;
  metadata?: { creationTimestamp?: string };
}

const eventTime = (event: EventJson) =>
  event.lastTimestamp ?? event.eventTime ?? event.metadata?.creationTimestamp ?? '';

export function registerListCommands(program: Command): void {
  withClusterFlags(
    program
      .command('list')
      .alias('ls')
      .description('List runbooks with their phase, progress, age, duration and usage (argo list)')
      .option('-A, --all-namespaces', 'in every namespace')
      .option('-l, --selector <selector>', 'label selector, as kubectl -l (app=x,tier!=y)')
      .option(
        '--field-selector <selector>',
        'field selector: metadata.name, metadata.namespace, status.phase (status.phase=Failed)',
      )
      .addOption(
        new Option('-o, --output <format>', 'output format').choices(['wide', 'name', 'json', 'yaml']),
      ),
  ).action(async (flags: ListFlags) => {
    const list = await listRunbooks(flags);
    if (flags.output === 'json' || flags.output === 'yaml') {
      process.stdout.write(render(list, flags.output));
      return;
    }
    if (flags.output === 'name') {
      process.stdout.write(list.items.map((item) => `${RESOURCE}/${item.metadata.name ?? ''}\n`).join(''));
      return;
    }
    if (list.items.length === 0) {
      process.stderr.write(
        flags.allNamespaces
          ? 'No runbooks found.\n'
          : `No runbooks found in ${flags.namespace ?? 'the namespace'}.\n`,
      );
      return;
    }
    const rows = listRows(
      list.items,
      { allNamespaces: !!flags.allNamespaces, wide: flags.output === 'wide' },
      Date.now(),
    );
    process.stdout.write(table(rows));
  });

  withClusterFlags(
    program
      .command('describe <name>')
      .description(
        'Show a run in detail, as kubectl describe does: its tree of stages and gates, conditions and recent Events',
      ),
  ).action(async (name: string, flags: ClusterFlags) => {
    process.stdout.write(await describe(name, flags));
  });

  withClusterFlags(
    program
      .command('delete <names...>')
      .description('Delete runbooks; their Jobs, Pods and child runbooks go with them (owner references)'),
  ).action(async (names: string[], flags: ClusterFlags) => {
    const { http, namespace } = await connect(flags);
    try {
      for (const name of names) {
        await http.request({
          method: 'DELETE',
          path: `${runbooksPath(namespace)}/${name}`,
          body: { propagationPolicy: 'Background' },
        });
        process.stdout.write(`${RESOURCE} "${name}" deleted\n`);
      }
    } finally {
      http.close();
    }
  });

  for (const [verb, suspended] of [
    ['suspend', true],
    ['resume', false],
  ] as const) {
    withClusterFlags(
      program
        .command(`${verb} <name>`)
        .description(
          suspended
            ? 'Suspend a run (spec.suspend: true): running stages finish, no new stage starts'
            : 'Resume a suspended run: stages start again',
        ),
    ).action(async (name: string, flags: ClusterFlags) => {
      await withRunbook(name, flags, (client) => client.suspend(suspended));
      process.stdout.write(`${RESOURCE}/${name} ${suspended ? 'suspended' : 'resumed'}\n`);
    });
  }
}
