import { KubeConfig } from '@kubernetes/client-node';
import type { Command } from 'commander';
import { loadCatalog } from '../controller/catalog-loader.js';
import { Operator } from '../controller/manager.js';
import { createLogger } from '../observability/logger.js';
import { WEBHOOK_SERVICE } from '../api/group.js';
import { OPERATOR_NAMESPACE } from '../controller/rbac.js';
import type { WebhookOptions } from '../webhook/webhook-runner.js';

interface OperatorFlags {
  kubeconfig?: string;
  namespace?: string;
  workers: string;
  config: string;
  logLevel: string;
  logFormat: 'json' | 'text';
  webhook: boolean;
  webhookPort: string;
  webhookUrl?: string;
  webhookSecret: string;
  certManager?: boolean;
}

function loadKubeConfig(path: string | undefined): KubeConfig {
  const kubeConfig = new KubeConfig();
  try {
    if (path) kubeConfig.loadFromFile(path);
    else kubeConfig.loadFromDefault();
  } catch (error) {
    throw new Error(`could not load the kubeconfig ${path ?? '(default)'}: ${(error as Error).message}`);
  }
  if (!kubeConfig.getCurrentCluster())
    throw new Error(`the kubeconfig ${path ?? '(default)'} has no current cluster`);
  return kubeConfig;
}

function webhookOptions(flags: OperatorFlags): WebhookOptions {
  const port = Number(flags.webhookPort);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--webhook-port must be a port number, not ${flags.webhookPort}`);
  const namespace = process.env.POD_NAMESPACE ?? OPERATOR_NAMESPACE;
  const service = WEBHOOK_SERVICE.name;
  const loopback =
    flags.webhookUrl !== undefined && /^https:\/\/(127\.0\.0\.1|localhost)[:/]/.test(flags.webhookUrl);
  return {
    port,
    namespace,
    secretName: flags.webhookSecret,
    dnsNames: [
      service,
      `${service}.${namespace}`,
      `${service}.${namespace}.svc`,
      `${service}.${namespace}.svc.cluster.local`,
      ...(loopback ? ['localhost'] : []),
    ],
    ...(loopback ? { ipAddresses: ['127.0.0.1'] } : {}),
    ...(flags.webhookUrl ? { url: flags.webhookUrl } : {}),
    ...(flags.certManager ? { certManager: true } : {}),
  };
}

export function registerOperatorCommand(program: Command): void {
  program
    .command('operator')
    .description('Run the AgentRunbook operator (in a cluster, or against a kubeconfig)')
    .option('--kubeconfig <path>', 'kubeconfig to use; default: $KUBECONFIG, ~/.kube/config, or in-cluster')
    .option('--namespace <name>', 'watch one namespace only (default: all)')
    .option('--workers <n>', 'runbooks reconciled at the same time', '4')
    .requiredOption(
      '--config <path>',
      'operator configuration (YAML): the agent catalog, circuit breakers, notification targets',
    )
    .option(
      '--no-webhook',
      'do not serve the conversion and validating webhooks (v1 objects then cannot be read)',
    )
    .option('--webhook-port <n>', 'port of the webhook server', '9443')
    .option(
      '--webhook-url <url>',
      'URL the API server uses to reach the webhook, when not through its Service',
    )
    .option(
      '--webhook-secret <name>',
      'Secret (in the operator namespace) holding the webhook certificates',
      'agentrunbook-webhook-tls',
    )
    .option('--cert-manager', 'use the certificates cert-manager keeps in that Secret instead of making them')
    .option('--log-level <level>', 'error, warn, info or debug', 'info')
    .option('--log-format <format>', 'json or text', 'json')
    .action(async (flags: OperatorFlags) => {
      const log = createLogger(flags.logLevel, flags.logFormat);
      const workers = Number(flags.workers);
      if (!Number.isInteger(workers) || workers < 1) {
        throw new Error(`--workers must be a whole number above 0, not ${flags.workers}`);
      }
      const catalog = loadCatalog(flags.config);
      const kubeConfig = loadKubeConfig(flags.kubeconfig);
      const operator = new Operator({
        kubeConfig,
        catalog,
        log,
        workers,
        ...(flags.namespace ? { namespace: flags.namespace } : {}),
        ...(flags.webhook ? { webhook: webhookOptions(flags) } : {}),
      });
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        log.info('stopping', { signal });
        operator.stop().then(
          () => process.exit(0),
          (error: unknown) => {
            log.error('stop failed', { error: (error as Error).message });
            process.exit(1);
          },
        );
      };
      process.on('SIGTERM', () => {
        stop('SIGTERM');
      });
      process.on('SIGINT', () => {
        stop('SIGINT');
      });
      await operator.start();
    });
}
