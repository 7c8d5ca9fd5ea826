/**
 * kubectl's flags for reaching a cluster (--kubeconfig, --context, -n, --as, --as-group) and its
 * -o, shared by commands.
 */
import { Option, type Command } from 'commander';
import { stringify } from 'yaml';
import { impersonating, loadClusterAccess } from '../kube/cluster-access.js';
import { KubeHttp } from '../kube/http.js';

export interface ClusterFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  as?: string;
  asGroup?: string[];
}

/** A repeatable option's values, in order. */
export const collect = (value: string, previous: string[] = []) => [...previous, value];

export function withClusterFlags(command: Command): Command {
  return command
    .option('--kubeconfig <path>', 'kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster)')
    .option('--context <name>', 'kubeconfig context to use (default: its current context)')
    .option('-n, --namespace <namespace>', "namespace (default: the context's, else default)")
    .option('--as <user>', 'user to impersonate, as kubectl --as (needs the impersonate verb)')
    .option('--as-group <group>', 'group to impersonate, repeatable, as kubectl --as-group', collect);
}

export function withOutputFlag(command: Command): Command {
  return command.addOption(
    new Option('-o, --output <format>', 'output format').choices(['yaml', 'json']).default('yaml'),
  );
}

export async function connect(flags: ClusterFlags): Promise<{ http: KubeHttp; namespace: string }> {
  const access = impersonating(await loadClusterAccess(flags.kubeconfig, flags.context), {
    ...(flags.as ? { user: flags.as } : {}),
    ...(flags.asGroup ? { groups: flags.asGroup } : {}),
  });
  return { http: new KubeHttp(access), namespace: flags.namespace ?? access.namespace ?? 'default' };
}

export function render(object: unknown, format: string): string {
  return format === 'json' ? `${JSON.stringify(object, null, 2)}\n` : stringify(object, { lineWidth: 0 });
}
