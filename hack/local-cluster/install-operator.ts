/**
 * Installs what the operator needs on a local control plane: the CRD (waiting until it is
 * Established), the operator's namespace, ServiceAccount and RBAC from config/rbac. Returns a
 * kubeconfig that acts as that ServiceAccount, so the operator runs with exactly its own rules.
 */
import { join } from 'node:path';
import { CRD_NAME } from '../../src/api/group.js';
import { OPERATOR_NAME, OPERATOR_NAMESPACE } from '../../src/operator/rbac.js';
import type { ControlPlane } from './control-plane.js';
import { repoRoot } from './paths.js';
import { kubectl } from './tools.js';

export async function mustRun(kubeconfig: string, args: string[], input?: string): Promise<string> {
  const result = await kubectl(kubeconfig, args, input);
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

/**
 * Waits until the CRD is Established, by polling its conditions: `kubectl wait --for=condition`
 * right after the CRD is created fails at once (".status.conditions accessor error") while the
 * API server has not yet written any condition.
 */
export async function waitForCrdEstablished(kubeconfig: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const result = await kubectl(kubeconfig, [
      'get',
      `crd/${CRD_NAME}`,
      '-o',
      'jsonpath={.status.conditions[?(@.type=="Established")].status}',
    ]);
    if (result.code === 0 && result.stdout.trim() === 'True') return;
    last = result.code === 0 ? `Established is "${result.stdout.trim()}"` : result.stderr;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`the CRD did not become Established within ${timeoutMs} ms: ${last}`);
}

export async function installOperator(plane: ControlPlane): Promise<string> {
  const admin = plane.adminKubeconfigPath;
  await mustRun(admin, ['apply', '--server-side', '-f', join(repoRoot, 'crds')]);
  await waitForCrdEstablished(admin);
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
}
