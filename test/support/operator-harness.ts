/**
 * Runs the operator in the test process against the real control plane, under the operator's own
 * ServiceAccount and the RBAC rules of config/rbac, so a missing permission fails the tests.
 */
import { KubeConfig } from '@kubernetes/client-node';
import type { AgentCatalog } from '../../src/api/catalog.js';
import { Operator } from '../../src/operator/operator.js';
import { createLogger, silentLogger, type Logger } from '../../src/observability/logger.js';
import { OPERATOR_NAMESPACE } from '../../src/operator/rbac.js';
import type { ControlPlane } from '../../hack/local-cluster/control-plane.js';
import { installOperator as installOperatorOn, mustRun } from '../../hack/local-cluster/install-operator.js';

const installed = new WeakMap<ControlPlane, Promise<string>>();

/** Installs the operator once per control plane; returns the kubeconfig of its ServiceAccount. */
export function installOperator(plane: ControlPlane): Promise<string> {
  const done = installed.get(plane);
  if (done) return done;
  const installing = installOperatorOn(plane);
  installed.set(plane, installing);
  return installing;
}

export async function startOperator(
  kubeconfigPath: string,
  catalog: AgentCatalog,
  namespace?: string,
): Promise<Operator> {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath);
  const log = process.env.AGENTRUNBOOK_TEST_LOG
    ? createLogger(process.env.AGENTRUNBOOK_TEST_LOG, 'text')
    : silentLogger();
  const operator = new Operator({
    kubeConfig,
    catalog,
    log,
    workers: 4,
    metrics: { port: 0, host: '127.0.0.1' },
    ...(namespace ? { namespaces: [namespace] } : {}),
  });
  await operator.start();
  return operator;
}

/** The Secret the webhook's certificates are kept in, as the installation names it. */
export const WEBHOOK_SECRET = 'agentrunbook-webhook-tls';

/**
 * The operator serving its webhooks on 127.0.0.1:`port` and registering them by URL. The
 * registration is cluster-wide: only for a control plane the suite has to itself.
 */
export async function startWebhookOperator(
  kubeconfigPath: string,
  options: {
    port: number;
    catalog: AgentCatalog;
    log?: Logger;
    namespace?: string;
    reconcileBudgetMs?: number;
  },
): Promise<Operator> {
  const { port, catalog, log, namespace, reconcileBudgetMs } = options;
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath);
  const operator = new Operator({
    kubeConfig,
    catalog,
    log:
      log ??
      (process.env.AGENTRUNBOOK_TEST_LOG
        ? createLogger(process.env.AGENTRUNBOOK_TEST_LOG, 'text')
        : silentLogger()),
    metrics: { port: 0, host: '127.0.0.1' },
    ...(namespace ? { namespaces: [namespace] } : {}),
    ...(reconcileBudgetMs === undefined ? {} : { reconcileBudgetMs }),
    webhook: {
      port,
      host: '127.0.0.1',
      url: `https://127.0.0.1:${port}`,
      namespace: OPERATOR_NAMESPACE,
      secretName: WEBHOOK_SECRET,
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
    },
  });
  await operator.start();
  return operator;
}

/** A fresh namespace whose default ServiceAccount exists, so Pods can be created in it. */
export async function testNamespace(plane: ControlPlane, prefix: string): Promise<string> {
  const name = `${prefix}-${Date.now().toString(36)}${Math.floor(Math.random() * 1000).toString(36)}`;
  await mustRun(plane.adminKubeconfigPath, ['create', 'namespace', name]);
  await mustRun(plane.adminKubeconfigPath, [
    'wait',
    '--for=create',
    '--timeout=30s',
    '-n',
    name,
    'serviceaccount/default',
  ]);
  return name;
}
