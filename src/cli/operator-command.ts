import { KubeConfig } from '@kubernetes/client-node';
import type { Command } from 'commander';
import { loadCatalog } from '../controller/catalog-loader.js';
import { Operator } from '../controller/manager.js';
import { createLogger } from '../observability/logger.js';

interface OperatorFlags {
  kubeconfig?: string;
  namespace?: string;
  workers: string;
  config: string;
  logLevel: string;
  logFormat: 'json' | 'text';
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
