/** Checks of an installed (or uninstalled) operator, shared by the install and e2e suites. */
import { expect } from 'chai';
import { CRD_NAME } from '../../src/api/group.js';
import { OPERATOR_NAME, OPERATOR_NAMESPACE } from '../../src/operator/rbac.js';
import { mustRun } from '../../hack/local-cluster/install-operator.js';

/** The holderIdentity of the operator's Lease; empty when released. */
export function leaseHolder(kubeconfig: string, lease = OPERATOR_NAME): Promise<string> {
  return mustRun(kubeconfig, [
    '-n',
    OPERATOR_NAMESPACE,
    'get',
    'lease',
    lease,
    '-o',
    'jsonpath={.spec.holderIdentity}',
  ]);
}

/** After uninstalling: nothing of the operator is left but the CRD it keeps. */
export async function expectOnlyTheCrdLeft(kubeconfig: string): Promise<void> {
  const labelled = await mustRun(kubeconfig, [
    'get',
    'clusterrole,clusterrolebinding,validatingwebhookconfiguration,deployment,replicaset,pod,service,secret,configmap,lease,pdb,serviceaccount,role,rolebinding',
    '-A',
    '-l',
    `app.kubernetes.io/name=${OPERATOR_NAME}`,
    '-o',
    'name',
  ]);
  expect(labelled.trim()).to.equal('');
  const inNamespace = await mustRun(kubeconfig, [
    'get',
    'secret,lease,configmap,pod',
    '-n',
    OPERATOR_NAMESPACE,
    '-o',
    'name',
  ]);
  expect(
    inNamespace.split('\n').filter((name) => name && name !== 'configmap/kube-root-ca.crt'),
  ).to.deep.equal([]);
  expect(await mustRun(kubeconfig, ['get', 'crd', CRD_NAME, '-o', 'name'])).to.contain(CRD_NAME);
}
