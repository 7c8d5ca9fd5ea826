/**
 * Runs the operator in the test process against the real control plane, under the operator's own
 * ServiceAccount and the RBAC rules of config/rbac, so a missing permission fails the tests.
 */
import { join } from 'node:path';
import { expect } from 'chai';
import { KubeConfig } from '@kubernetes/client-node';
import type { AgentCatalog } from '../../src/api/catalog.js';
import { Operator } from '../../src/controller/manager.js';
import { OPERATOR_NAME, OPERATOR_NAMESPACE } from '../../src/controller/rbac.js';
import { createLogger, silentLogger } from '../../src/observability/logger.js';
import type { ControlPlane } from '../../hack/local-cluster/control-plane.js';
import { repoRoot } from '../../hack/local-cluster/paths.js';
import { kubectl } from '../../hack/local-cluster/tools.js';

const installed = new WeakMap<ControlPlane, Promise<string>>();

async function mustRun(kubeconfig: string, args: string[], input?: string): Promise<string> {
  const result = await kubectl(kubeconfig, args, input);
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

/** Installs the CRD and the operator's RBAC once per control plane; returns the operator's kubeconfig. */
export function installOperator(plane: ControlPlane): Promise<string> {
  const done = installed.get(plane);
  if (done) return done;
  const installing = (async () => {
    const admin = plane.adminKubeconfigPath;
    await mustRun(admin, [
      'apply',
      '--server-side',
      '-f',
      join(repoRoot, 'crds', 'agentrunbooks.i2s.studio.yaml'),
    ]);
    await mustRun(admin, [
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      'crd/agentrunbooks.i2s.studio',
    ]);
    await mustRun(admin, ['create', 'namespace', OPERATOR_NAMESPACE]);
    await mustRun(admin, ['apply', '-k', join(repoRoot, 'config', 'rbac')]);
    const token = await mustRun(admin, [
      'create',
      'token',
      OPERATOR_NAME,
      '-n',
      OPERATOR_NAMESPACE,
      '--duration=24h',
    ]);
    return plane.kubeconfigForToken(OPERATOR_NAME, token.trim());
  })();
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
    ...(namespace ? { namespace } : {}),
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

export { mustRun };

export function expectOk(result: { code: number; stderr: string }): void {
  expect(result.code, result.stderr).to.equal(0);
}
