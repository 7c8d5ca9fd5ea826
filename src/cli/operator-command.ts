import { setFlagsFromString } from 'node:v8';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Option, type Command } from 'commander';
import { MAX_OUTPUT_BYTES } from '../api/agent-contract.js';
import { WEBHOOK_SERVICE } from '../api/group.js';
import { loadCatalog } from '../operator/configuration-file.js';
import { OPERATOR_NAME, OPERATOR_NAMESPACE } from '../operator/rbac.js';
import { parseDurationMs } from '../api/grammar.js';
import { loadClusterAccess } from '../kube/cluster-access.js';
import { LEADER_ELECTION_DEFAULTS } from '../kube/leader-election.js';
import { createLogger, LOG_LEVELS, type Logger } from '../observability/logger.js';
import { DEFAULT_WORKERS, Operator, type OperatorOptions } from '../operator/operator.js';
import { readTemplateLibrary } from '../operator/template-library.js';
import { readAgentLibrary } from '../operator/agent-library.js';
import type { WebhookOptions } from '../webhook/webhook-runner.js';
import { MUTATING_WEBHOOK_NAME, VALIDATING_WEBHOOK_NAME } from '../webhook/registration.js';

/**
 * V8's memory-first settings: a heap that grows less eagerly and shrinks when idle, and bytecode
 * and baseline code not run for two full collections (V8 waits for six) dropped, to be compiled
 * again if it runs: what only the start ran (schemas, the flag and YAML parsers) does not stay.
 */
export const MEMORY_FIRST_V8_FLAGS = ['--optimize-for-size', '--bytecode-old-age=2', '--flush-baseline-code'];

interface OperatorFlags {
  kubeconfig?: string;
  namespace?: string;
  workers: string;
  reconcileBudget: string;
  maxOutputBytes: string;
  config: string;
  logLevel: string;
  templateLibrary?: string;
  agentLibrary?: string;
  logFormat: 'json' | 'text';
  optimizeForSize: boolean;
  webhook: boolean;
  webhookBindAddress: string;
  webhookUrl?: string;
  webhookSecret: string;
  webhookService: string;
  validatingWebhookConfiguration: string;
  mutatingWebhookConfiguration: string;
  certManager?: boolean;
  webhookShutdownDelay: string;
  healthProbeBindAddress: string;
  metricsBindAddress: string;
  leaderElect?: boolean;
  leaderElectionNamespace?: string;
  leaderElectionId: string;
  leaderElectionLeaseDuration: string;
  leaderElectionRenewDeadline: string;
  leaderElectionRetryPeriod: string;
}

/** --namespace a,b: each a namespace name (a DNS label), none twice. */
function watchedNamespaces(value: string): string[] {
  const names = value.split(',').map((name) => name.trim());
  for (const name of names)
    if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(name))
      throw new Error(`--namespace takes namespace names separated by commas, not ${JSON.stringify(name)}`);
  if (new Set(names).size !== names.length) throw new Error(`--namespace names a namespace twice: ${value}`);
  return names;
}

/** The namespace the operator runs in: the Pod's (downward API), else the default one. */
const operatorNamespace = () => process.env.POD_NAMESPACE ?? OPERATOR_NAMESPACE;

/** Parses `host:port` or `:port` (all interfaces); port 0 picks a free one. */
function parseBindAddress(flag: string, value: string): { host?: string; port: number } {
  const match = /^(.*):(\d+)$/.exec(value);
  const port = Number(match?.[2]);
  if (!match || !Number.isInteger(port) || port > 65535)
    throw new Error(`${flag} must be host:port or :port, not ${value}`);
  const host = match[1]?.replace(/^\[(.*)\]$/, '$1');
  return host ? { host, port } : { port };
}

function duration(flag: string, value: string): number {
  try {
    return parseDurationMs(value);
  } catch {
    throw new Error(`${flag} must be a duration such as 15s, not ${value}`);
  }
}

function webhookOptions(flags: OperatorFlags): WebhookOptions {
  const bind = parseBindAddress('--webhook-bind-address', flags.webhookBindAddress);
  const namespace = operatorNamespace();
  const service = flags.webhookService;
  const loopback =
    flags.webhookUrl !== undefined && /^https:\/\/(127\.0\.0\.1|localhost)[:/]/.test(flags.webhookUrl);
  return {
    ...bind,
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
    names: {
      service: { namespace, name: service },
      validating: flags.validatingWebhookConfiguration,
      mutating: flags.mutatingWebhookConfiguration,
    },
    ...(flags.certManager ? { certManager: true } : {}),
    shutdownDelayMs: duration('--webhook-shutdown-delay', flags.webhookShutdownDelay),
  };
}

function leaderElection(flags: OperatorFlags): OperatorOptions['leaderElection'] {
  return {
    namespace: flags.leaderElectionNamespace ?? operatorNamespace(),
    name: flags.leaderElectionId,
    // client-go's choice: unique per process, recognisable per Pod.
    identity: `${process.env.POD_NAME ?? hostname()}_${randomUUID()}`,
    leaseDurationMs: duration('--leader-election-lease-duration', flags.leaderElectionLeaseDuration),
    renewDeadlineMs: duration('--leader-election-renew-deadline', flags.leaderElectionRenewDeadline),
    retryPeriodMs: duration('--leader-election-retry-period', flags.leaderElectionRetryPeriod),
  };
}

const seconds = (ms: number) => `${ms / 1000}s`;

export function registerOperatorCommand(program: Command): void {
  program
    .command('operator')
    .description('Run the AgentRunbook operator (in a cluster, or against a kubeconfig)')
    .option('--kubeconfig <path>', 'kubeconfig to use; default: $KUBECONFIG, ~/.kube/config, or in-cluster')
    .option(
      '--namespace <names>',
      'watch only these namespaces, comma-separated (default: all); a Role in each suffices',
    )
    .option(
      '--workers <n>',
      'runbooks reconciled at the same time (one in eight of them for runbooks not yet started)',
      String(DEFAULT_WORKERS),
    )
    .requiredOption(
      '--config <path>',
      'operator configuration (YAML): the agent catalog, circuit breakers, notification targets',
    )
    .option(
      '--no-webhook',
      'do not serve the conversion and validating webhooks (v1 objects then cannot be read)',
    )
    .option('--webhook-bind-address <host:port>', 'where the webhook server listens (TLS)', ':9443')
    .option(
      '--webhook-url <url>',
      'URL the API server uses to reach the webhook, when not through its Service',
    )
    .option(
      '--webhook-service <name>',
      'Service (in the operator namespace) in front of the webhook; the CRD gets the CA only if it converts through it',
      WEBHOOK_SERVICE.name,
    )
    .option(
      '--validating-webhook-configuration <name>',
      'ValidatingWebhookConfiguration the CA bundle goes into',
      VALIDATING_WEBHOOK_NAME,
    )
    .option(
      '--mutating-webhook-configuration <name>',
      'MutatingWebhookConfiguration the CA bundle goes into',
      MUTATING_WEBHOOK_NAME,
    )
    .option(
      '--webhook-secret <name>',
      'Secret (in the operator namespace) holding the webhook certificates',
      'agentrunbook-webhook-tls',
    )
    .option('--cert-manager', 'use the certificates cert-manager keeps in that Secret instead of making them')
    .option(
      '--webhook-shutdown-delay <duration>',
      "on SIGTERM, how long the webhook goes on answering, each answer closing its connection, so the API server's calls move to another replica before this one stops listening",
      '5s',
    )
    .option(
      '--health-probe-bind-address <host:port>',
      'where /healthz and /readyz are served (plain HTTP); "0" turns them off',
      ':8081',
    )
    .option(
      '--metrics-bind-address <host:port>',
      'where Prometheus metrics are served at /metrics (plain HTTP); "0" (the default) turns them off',
      '0',
    )
    .option('--leader-elect', 'reconcile only while holding the leader-election Lease (run several replicas)')
    .option(
      '--leader-election-namespace <name>',
      'namespace of the Lease (default: $POD_NAMESPACE or agentrunbook-system)',
    )
    .option('--leader-election-id <name>', 'name of the Lease', OPERATOR_NAME)
    .option(
      '--leader-election-lease-duration <duration>',
      'how long a leader that stopped renewing keeps the Lease',
      seconds(LEADER_ELECTION_DEFAULTS.leaseDurationMs),
    )
    .option(
      '--leader-election-renew-deadline <duration>',
      'how long the leader keeps trying to renew before it gives up',
      seconds(LEADER_ELECTION_DEFAULTS.renewDeadlineMs),
    )
    .option(
      '--leader-election-retry-period <duration>',
      'how often candidates try to take, and the leader to renew, the Lease',
      seconds(LEADER_ELECTION_DEFAULTS.retryPeriodMs),
    )
    .option(
      '--reconcile-budget <duration>',
      'longest the engine may take deciding one runbook; a runbook over it twice in a row is parked with reason ReconcileBudgetExceeded',
      '1s',
    )
    .option(
      '--max-output-bytes <bytes>',
      `most a stage's outputs may hold as JSON (up to ${MAX_OUTPUT_BYTES}); a stage over it fails with reason OutputsTooLarge`,
      String(MAX_OUTPUT_BYTES),
    )
    .option(
      '--template-library <file>',
      'ClusterAgentRunbookTemplates (YAML) the leader applies at start: the template library',
    )
    .option(
      '--agent-library <file>',
      'Agents and ClusterAgents (YAML documents or a List) the leader applies at start: the chart installs its agents so',
    )
    .addOption(
      new Option('--log-level <level>', 'the least severe lines written').choices(LOG_LEVELS).default('info'),
    )
    .option(
      '--no-optimize-for-size',
      "keep V8's speed-first settings instead of the memory-first ones the operator sets at start (NODE_OPTIONS cannot): --optimize-for-size, and code not run for two full collections dropped; about 15 MB more resident at the peak and 12 MB more idle, for no less CPU per stage (docs/performance.md)",
    )
    .addOption(
      new Option('--log-format <format>', 'json lines, or text for a terminal')
        .choices(['json', 'text'])
        .default('json'),
    )
    .action(async (flags: OperatorFlags) => {
      // Before anything is built, and before the webhook thread's isolate exists.
      if (flags.optimizeForSize) for (const flag of MEMORY_FIRST_V8_FLAGS) setFlagsFromString(flag);
      const log = createLogger(flags.logLevel, flags.logFormat);
      // Everything on stderr is a log line: Node's own warnings too.
      process.removeAllListeners('warning');
      process.on('warning', (warning) => {
        log.warn(warning.message, { warning: warning.name });
      });
      // Every promise is awaited or caught (the linter's no-floating-promises keeps it so); should
      // one escape anyway, it is logged and the operator goes on serving.
      process.on('unhandledRejection', (reason) => {
        log.error('unhandled promise rejection', {
          error: reason instanceof Error ? (reason.stack ?? reason.message) : String(reason),
        });
      });
      try {
        await runOperator(flags, log);
      } catch (error) {
        log.error('the operator could not start', { error: (error as Error).message });
        process.exit(1);
      }
    });
}

async function runOperator(flags: OperatorFlags, log: Logger): Promise<void> {
  const workers = Number(flags.workers);
  if (!Number.isInteger(workers) || workers < 1) {
    throw new Error(`--workers must be a whole number above 0, not ${flags.workers}`);
  }
  const maxOutputBytes = Number(flags.maxOutputBytes);
  if (!Number.isInteger(maxOutputBytes) || maxOutputBytes < 1 || maxOutputBytes > MAX_OUTPUT_BYTES) {
    throw new Error(
      `--max-output-bytes must be a whole number from 1 to ${MAX_OUTPUT_BYTES} (what one ConfigMap holds), not ${flags.maxOutputBytes}`,
    );
  }
  // Bad flags fail before anything is read or reached.
  const namespaces = flags.namespace ? watchedNamespaces(flags.namespace) : undefined;
  const webhook = flags.webhook ? webhookOptions(flags) : undefined;
  const catalog = loadCatalog(flags.config);
  const templateLibrary = flags.templateLibrary ? readTemplateLibrary(flags.templateLibrary) : undefined;
  const agentLibrary = flags.agentLibrary ? readAgentLibrary(flags.agentLibrary) : undefined;
  const kubeConfig = await loadClusterAccess(flags.kubeconfig);
  const metrics =
    flags.metricsBindAddress === '0'
      ? undefined
      : parseBindAddress('--metrics-bind-address', flags.metricsBindAddress);
  const health =
    flags.healthProbeBindAddress === '0'
      ? undefined
      : parseBindAddress('--health-probe-bind-address', flags.healthProbeBindAddress);
  const operator = new Operator({
    kubeConfig,
    catalog,
    log,
    workers,
    reconcileBudgetMs: parseDurationMs(flags.reconcileBudget),
    maxOutputBytes,
    ...(namespaces ? { namespaces } : {}),
    ...(webhook ? { webhook } : {}),
    ...(flags.leaderElect ? { leaderElection: leaderElection(flags) } : {}),
    ...(health ? { health } : {}),
    ...(metrics ? { metrics } : {}),
    ...(templateLibrary ? { templateLibrary } : {}),
    ...(agentLibrary ? { agentLibrary } : {}),
    onLeadershipLost: () => {
      // As client-go's controllers do: a replica that may no longer lead must not go on writing.
      log.error('leadership lost; exiting');
      process.exit(1);
    },
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
}
