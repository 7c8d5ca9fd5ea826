/**
 * `agentrunbook version` (and `--version`): this CLI's version and, as `tkn version` does, the
 * operator's, from the info ConfigMap its chart makes readable to every authenticated user.
 */
import { Option, type Command } from 'commander';
import { isStatus } from '../kube/http.js';
import { OPERATOR_INFO_NAME } from '../operator/operator-info.js';
import { OPERATOR_NAMESPACE } from '../operator/rbac.js';
import { VERSION } from '../version.js';
import { connect, render, withClusterFlags, type ClusterFlags } from './cluster-flags.js';

/** Where the default installation keeps the operator's version. */
const OPERATOR_INFO = { namespace: OPERATOR_NAMESPACE, name: OPERATOR_INFO_NAME };

interface VersionFlags extends ClusterFlags {
  output?: string;
  operatorNamespace: string;
  operatorInfo: string;
  client?: boolean;
}

interface Versions {
  clientVersion: string;
  operatorVersion?: string;
  /** Why the operator's version is not known. */
  operatorError?: string;
}

async function operatorVersion(
  flags: VersionFlags,
): Promise<Pick<Versions, 'operatorVersion' | 'operatorError'>> {
  const path = `/api/v1/namespaces/${flags.operatorNamespace}/configmaps/${flags.operatorInfo}`;
  try {
    const { http } = await connect(flags);
    try {
      const info = await http.request<{ data?: { version?: string } }>({ method: 'GET', path });
      const version = info.data?.version;
      return version
        ? { operatorVersion: version }
        : { operatorError: `configmap ${flags.operatorNamespace}/${flags.operatorInfo} has no data.version` };
    } finally {
      http.close();
    }
  } catch (error) {
    const why = isStatus(error, 404)
      ? `no configmap ${flags.operatorInfo} in namespace ${flags.operatorNamespace} (give --operator-namespace and --operator-info for another release)`
      : (error as Error).message;
    return { operatorError: why };
  }
}

export async function printVersion(flags: VersionFlags): Promise<void> {
  const versions: Versions = {
    clientVersion: VERSION,
    ...(flags.client ? {} : await operatorVersion(flags)),
  };
  if (flags.output) {
    process.stdout.write(render(versions, flags.output));
    return;
  }
  const lines = [`Client Version: ${versions.clientVersion}`];
  if (!flags.client)
    lines.push(
      `Operator Version: ${versions.operatorVersion ?? `unknown (${versions.operatorError ?? ''})`}`,
    );
  process.stdout.write(`${lines.join('\n')}\n`);
}

export function registerVersionCommand(program: Command): void {
  withClusterFlags(
    program
      .command('version')
      .description(
        "Print this CLI's version and the operator's (from its info ConfigMap); --version does the same",
      )
      .option('--client', "only this CLI's version; the cluster is not asked")
      .option('--operator-namespace <namespace>', "the operator's namespace", OPERATOR_INFO.namespace)
      .option('--operator-info <name>', "the operator's info ConfigMap (<release>-info)", OPERATOR_INFO.name)
      .addOption(new Option('-o, --output <format>', 'output format').choices(['yaml', 'json'])),
  ).action((flags: VersionFlags) => printVersion(flags));
}
