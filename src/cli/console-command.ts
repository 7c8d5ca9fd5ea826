/**
 * `agentrunbook console`: the web console. By default on 127.0.0.1 with the kubeconfig's identity
 * (as kubectl proxy); with --in-cluster, as the chart runs it, over TLS with each viewer's token.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadClusterAccess } from '../kube/cluster-access.js';
import { createLogger } from '../observability/logger.js';
import { startClusterConsole, startLocalConsole } from '../console/start.js';

interface ConsoleFlags {
  kubeconfig?: string;
  context?: string;
  port: string;
  inCluster?: boolean;
  address: string;
  apiServer?: string;
  apiCaFile: string;
  tlsCertFile?: string;
  tlsKeyFile?: string;
  sessionKeyFile?: string;
  assets?: string;
}

function port(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65535)
    throw new Error(`--port must be a port number, not ${value}`);
  return parsed;
}

function inClusterServer(): string {
  const host = process.env.KUBERNETES_SERVICE_HOST;
  if (!host) throw new Error('--in-cluster needs --api-server outside a Pod');
  return `https://${host.includes(':') ? `[${host}]` : host}:${process.env.KUBERNETES_SERVICE_PORT ?? '443'}`;
}

function sessionKey(path: string): Buffer {
  const text = readFileSync(path, 'utf8').trim();
  const key = /^[0-9a-f]{64}$/i.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
  if (key.length !== 32) throw new Error(`--session-key-file must hold 32 bytes (hex or base64): ${path}`);
  return key;
}

export function registerConsoleCommand(program: Command): void {
  program
    .command('console')
    .description(
      "Serve the web console: on 127.0.0.1 with your kubeconfig's identity (prints the URL), or with --in-cluster over TLS with each viewer's own token",
    )
    .option('-p, --port <port>', 'port to listen on (0 picks a free one)', '8420')
    .option(
      '--in-cluster',
      "serve in the cluster: TLS, every viewer signs in with their own token (or an authenticating proxy's Authorization header)",
    )
    .option('--address <address>', 'with --in-cluster, the address to listen on', '0.0.0.0')
    .option('--api-server <url>', "with --in-cluster, the API server's URL (default: the Pod's)")
    .option(
      '--api-ca-file <path>',
      "with --in-cluster, the CA of the API server's certificate (the kube-root-ca.crt ConfigMap)",
      '/etc/agentrunbook-console/ca/ca.crt',
    )
    .option(
      '--tls-cert-file <path>',
      'with --in-cluster, the serving certificate (default: a self-signed one)',
    )
    .option('--tls-key-file <path>', 'with --in-cluster, its private key')
    .option(
      '--session-key-file <path>',
      'with --in-cluster, 32 bytes (hex or base64) that seal sign-in cookies; replicas share it',
    )
    .option('--kubeconfig <path>', 'kubeconfig file (default: $KUBECONFIG, ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context to use (default: its current context)')
    .option('--assets <dir>', "the front end's files (default: the bundle npm run build wrote)")
    .action(async (flags: ConsoleFlags) => {
      const logger = createLogger('info', 'text');
      const started = flags.inCluster
        ? await startClusterConsole({
            port: port(flags.port),
            address: flags.address,
            apiServer: flags.apiServer ?? inClusterServer(),
            apiCa: readFileSync(flags.apiCaFile),
            ...(flags.tlsCertFile ? { tlsCertFile: flags.tlsCertFile } : {}),
            ...(flags.tlsKeyFile ? { tlsKeyFile: flags.tlsKeyFile } : {}),
            ...(flags.sessionKeyFile ? { sessionKey: sessionKey(flags.sessionKeyFile) } : {}),
            ...(flags.assets ? { assets: flags.assets } : {}),
            logger,
          })
        : await startLocalConsole(await loadClusterAccess(flags.kubeconfig, flags.context), {
            port: port(flags.port),
            ...(flags.assets ? { assets: flags.assets } : {}),
            logger,
          });
      process.stdout.write(`The console is at ${started.url} (Ctrl-C stops it)\n`);
      const stop = () => {
        void started.server.close().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
