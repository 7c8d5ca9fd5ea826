/**
 * `agentrunbook cache list|clear`: the stage results a namespace keeps for reuse (CachedResults).
 * Both are label selections, so `kubectl get|delete cachedresults -l ...` does the same.
 */
import { Option, type Command } from 'commander';
import { LABEL_AGENT, LABEL_RUNBOOK, LABEL_STAGE } from '../api/labels.js';
import { labelValue } from '../engine/model/naming.js';
import type { CachedResultJson } from '../kube/types.js';
import { cachedResultsPath } from '../controller/result-store.js';
import { connect, render, withClusterFlags, type ClusterFlags } from './cluster-flags.js';
import { shortDuration } from './run-tree.js';
import { table } from './table.js';

interface SelectFlags extends ClusterFlags {
  runbook?: string;
  stage?: string;
  agent?: string;
  selector?: string;
}

const withSelectFlags = (command: Command) =>
  withClusterFlags(command)
    .option('--runbook <name>', 'only the results this runbook produced')
    .option('--stage <name>', 'only the results of this stage')
    .option('--agent <name>', 'only the results of this agent')
    .option('-l, --selector <selector>', 'only the results these labels select, as kubectl -l');

/** The label selector the flags make: the same one `kubectl get cachedresults -l` takes. */
export function cacheSelector(flags: SelectFlags): string {
  return [
    flags.runbook && `${LABEL_RUNBOOK}=${labelValue(flags.runbook)}`,
    flags.stage && `${LABEL_STAGE}=${labelValue(flags.stage)}`,
    flags.agent && `${LABEL_AGENT}=${labelValue(flags.agent)}`,
    flags.selector,
  ]
    .filter(Boolean)
    .join(',');
}

export function cacheRows(results: readonly CachedResultJson[], now: Date): string[][] {
  return [
    ['NAME', 'STAGE', 'AGENT', 'RUNBOOK', 'TOKENS', 'COST', 'AGE', 'EXPIRES IN'],
    ...results.map(({ metadata, spec }) => [
      metadata.name ?? '',
      spec.origin.stage,
      spec.agent,
      spec.origin.runbook,
      (spec.usage.tokens ?? 0).toLocaleString('en-US'),
      `$${spec.usage.costUSD ?? '0'}`,
      shortDuration(now.getTime() - Date.parse(spec.origin.time)),
      shortDuration(Date.parse(spec.expiresAt) - now.getTime()),
    ]),
  ];
}

export function registerCacheCommand(program: Command): void {
  const cache = program
    .command('cache')
    .description('The stage results a namespace keeps for reuse (CachedResults): list them, or clear them');
  withSelectFlags(cache.command('list').description('List the stored results, newest first'))
    .addOption(
      new Option('-o, --output <format>', 'output format')
        .choices(['table', 'yaml', 'json'])
        .default('table'),
    )
    .action(async (flags: SelectFlags & { output: string }) => {
      const { http, namespace } = await connect(flags);
      try {
        const selector = cacheSelector(flags);
        const list = await http.request<{ items: CachedResultJson[] }>({
          method: 'GET',
          path: cachedResultsPath(namespace),
          query: selector ? { labelSelector: selector } : {},
        });
        const items = list.items.sort(
          (a, b) => Date.parse(b.spec.origin.time) - Date.parse(a.spec.origin.time),
        );
        if (flags.output !== 'table') {
          process.stdout.write(render({ apiVersion: 'v1', kind: 'List', items }, flags.output));
          return;
        }
        if (!items.length) {
          process.stdout.write(
            `No stored results in namespace ${namespace}${selector ? ` match ${selector}` : ''}.\n`,
          );
          return;
        }
        process.stdout.write(table(cacheRows(items, new Date())));
      } finally {
        http.close();
      }
    });
  withSelectFlags(
    cache
      .command('clear [names...]')
      .description(
        'Delete stored results: those named, those the flags select, or with --all every one in the namespace',
      )
      .option('--all', 'every stored result in the namespace'),
  ).action(async (names: string[], flags: SelectFlags & { all?: boolean }) => {
    const selector = cacheSelector(flags);
    if (!names.length && !selector && !flags.all)
      throw new Error(
        'name the results to clear, select them (--runbook, --stage, --agent, -l), or pass --all',
      );
    const { http, namespace } = await connect(flags);
    try {
      const path = cachedResultsPath(namespace);
      const query = selector ? { labelSelector: selector } : {};
      let cleared: number;
      if (names.length) {
        const listed = await http.request<{ items: CachedResultJson[] }>({ method: 'GET', path, query });
        const selected = new Set(listed.items.map((result) => result.metadata.name));
        const missing = names.filter((name) => !selected.has(name));
        if (missing.length)
          throw new Error(
            `no stored result named ${missing.join(', ')}${selector ? ` matches ${selector}` : ''}`,
          );
        for (const name of names) await http.request({ method: 'DELETE', path: `${path}/${name}` });
        cleared = names.length;
      } else {
        // One request, as kubectl delete cachedresults -l does.
        const deleted = await http.request<{ items?: unknown[] }>({ method: 'DELETE', path, query });
        cleared = deleted.items?.length ?? 0;
      }
      process.stdout.write(
        `cleared ${cleared} stored result${cleared === 1 ? '' : 's'} in namespace ${namespace}\n`,
      );
    } finally {
      http.close();
    }
  });
}
