/**
 * Installing with install.yaml or the Helm chart on a real control plane, with the operator (as
 * its ServiceAccount) filling in the webhook CA bundles: re-applying, upgrading and uninstalling
 * afterwards work and show no drift. Each way gets its own control plane.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { CRD_NAME } from '../../src/api/group.js';
import { OPERATOR_NAME, OPERATOR_NAMESPACE } from '../../src/operator/rbac.js';
import { expectOnlyTheCrdLeft, leaseHolder } from '../support/installation.js';
import { FIELD_MANAGER } from '../../src/kube/http.js';
import { createLogger, silentLogger } from '../../src/observability/logger.js';
import { Operator } from '../../src/operator/operator.js';
import { VALIDATING_WEBHOOK_NAME } from '../../src/webhook/registration.js';
import { ControlPlane } from '../../hack/local-cluster/control-plane.js';
import { mustRun, waitForCrdEstablished } from '../../hack/local-cluster/install-operator.js';
import { repoRoot } from '../../hack/local-cluster/paths.js';
import { freePort } from '../../hack/local-cluster/ports.js';
import { helm, kubectl } from '../../hack/local-cluster/tools.js';

const INSTALL_YAML = join(repoRoot, 'manifests', 'install.yaml');
const CHART = join(repoRoot, 'helm', 'agentrunbook-operator');

interface ManagedField {
  manager: string;
  operation: string;
  fieldsV1?: unknown;
}

/** A Helm release's namespace and the name its objects are named after (the chart's fullname). */
interface Release {
  namespace: string;
  fullname: string;
  /** The namespaces it watches (watchNamespaces). */
  watches?: string[];
}

const DEFAULT_RELEASE: Release = { namespace: OPERATOR_NAMESPACE, fullname: 'agentrunbook' };

/**
 * Runs the operator in this process as its ServiceAccount, with the flags the chart gives it, its
 * webhooks reached through their Service as in a cluster, or at `url` as when the operator runs
 * outside it.
 */
async function startInstalledOperator(
  plane: ControlPlane,
  url?: string,
  release: Release = DEFAULT_RELEASE,
): Promise<Operator> {
  const serviceAccount = `${release.fullname}-operator`;
  const token = await mustRun(plane.adminKubeconfigPath, [
    'create',
    'token',
    serviceAccount,
    '-n',
    release.namespace,
  ]);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(plane.kubeconfigForToken(serviceAccount, token.trim()));
  const service = `${release.fullname}-webhook`;
  const operator = new Operator({
    kubeConfig,
    ...(release.watches ? { namespaces: release.watches } : {}),
    catalog: { agents: [] },
    log: process.env.AGENTRUNBOOK_TEST_LOG
      ? createLogger(process.env.AGENTRUNBOOK_TEST_LOG, 'text')
      : silentLogger(),
    webhook: {
      port: url ? Number(new URL(url).port) : await freePort(),
      host: '127.0.0.1',
      namespace: release.namespace,
      secretName: `${release.fullname}-webhook-tls`,
      dnsNames: [`${service}.${release.namespace}.svc`],
      names: {
        service: { namespace: release.namespace, name: service },
        validating: `${release.fullname}-validation`,
        mutating: `${release.fullname}-approval`,
      },
      ...(url ? { url, ipAddresses: ['127.0.0.1'] } : {}),
    },
    leaderElection: {
      namespace: release.namespace,
      name: serviceAccount,
      identity: 'install-test',
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
    },
  });
  await operator.start();
  await operator.leader;
  return operator;
}

async function expectCaBundlesOwnedByTheOperator(plane: ControlPlane): Promise<void> {
  const get = async (kind: string, name: string) =>
    JSON.parse(
      await mustRun(plane.adminKubeconfigPath, ['get', kind, name, '-o', 'json', '--show-managed-fields']),
    ) as {
      metadata: { managedFields: ManagedField[] };
      spec?: { conversion: { webhook: { clientConfig: { caBundle?: string; service?: unknown } } } };
      webhooks?: { clientConfig: { caBundle?: string; service?: unknown } }[];
    };
  const crd = await get('crd', CRD_NAME);
  expect(crd.spec?.conversion.webhook.clientConfig.caBundle, 'CRD caBundle').to.be.a('string').and.not.empty;
  expect(crd.spec?.conversion.webhook.clientConfig.service, 'CRD service').to.be.an('object');
  const vwc = await get('validatingwebhookconfiguration', VALIDATING_WEBHOOK_NAME);
  expect(vwc.webhooks?.[0]?.clientConfig.caBundle, 'webhook caBundle').to.be.a('string').and.not.empty;
  expect(vwc.webhooks?.[0]?.clientConfig.service, 'webhook service').to.be.an('object');
  for (const object of [crd, vwc]) {
    const mine = object.metadata.managedFields.filter((field) => field.manager === FIELD_MANAGER);
    expect(mine.map((field) => field.operation)).to.deep.equal(['Apply']);
    // The operator owns the CA bundle and nothing else of these objects.
    expect(JSON.stringify(mine[0]?.fieldsV1)).to.contain('f:caBundle').and.not.contain('f:service');
  }
}

describe('installing: install.yaml and the Helm chart, with the operator filling in its CA bundles', function () {
  this.timeout(240_000);
  let plane: ControlPlane | undefined;
  let operator: Operator | undefined;

  afterEach(async () => {
    await operator?.stop();
    operator = undefined;
    await plane?.stop();
    plane = undefined;
  });

  it('kubectl apply --server-side -f manifests/install.yaml: re-applied afterwards with no conflict and no drift', async () => {
    plane = await ControlPlane.start();
    const admin = plane.adminKubeconfigPath;
    await mustRun(admin, ['apply', '--server-side', '-f', INSTALL_YAML]);
    await waitForCrdEstablished(admin);
    operator = await startInstalledOperator(plane);
    await expectCaBundlesOwnedByTheOperator(plane);
    const secret = JSON.parse(
      await mustRun(admin, [
        '-n',
        OPERATOR_NAMESPACE,
        'get',
        'secret',
        'agentrunbook-webhook-tls',
        '-o',
        'json',
      ]),
    ) as { data: Record<string, string>; metadata: { labels?: Record<string, string> } };
    expect(secret.data['tls.crt']).to.not.equal('');
    expect(secret.metadata.labels?.['app.kubernetes.io/name'], 'the placeholder keeps its labels').to.equal(
      OPERATOR_NAME,
    );

    await mustRun(admin, ['apply', '--server-side', '-f', INSTALL_YAML]);
    const diff = await kubectl(admin, ['diff', '--server-side', '-f', INSTALL_YAML]);
    expect(diff.code, `drift after re-applying:\n${diff.stdout}${diff.stderr}`).to.equal(0);
    await expectCaBundlesOwnedByTheOperator(plane);
    const holder = await leaseHolder(admin);
    expect(holder).to.equal('install-test');
    await operator.stop();
    operator = undefined;
    const released = await leaseHolder(admin);
    expect(released, 'the Lease is released on stop').to.equal('');

    // Out of the cluster, the operator points the webhooks at its URL while it runs only.
    const url = `https://127.0.0.1:${await freePort()}`;
    operator = await startInstalledOperator(plane, url);
    const conversionUrl = () =>
      mustRun(admin, ['get', 'crd', CRD_NAME, '-o', 'jsonpath={.spec.conversion.webhook.clientConfig.url}']);
    expect(await conversionUrl()).to.equal(`${url}/convert`);
    await operator.stop();
    operator = undefined;
    expect(await conversionUrl()).to.equal('');
    await mustRun(admin, ['apply', '--server-side', '-f', INSTALL_YAML]);
    const after = await kubectl(admin, ['diff', '--server-side', '-f', INSTALL_YAML]);
    expect(after.code, `drift after an out-of-cluster run:\n${after.stdout}${after.stderr}`).to.equal(0);
  });

  it('helm install, helm upgrade afterwards, then helm uninstall leaves only the kept CRD', async () => {
    plane = await ControlPlane.start();
    const admin = plane.adminKubeconfigPath;
    const installed = await helm(plane.adminKubeconfigPath, [
      'install',
      'agentrunbook',
      CHART,
      '-n',
      OPERATOR_NAMESPACE,
      '--create-namespace',
    ]);
    expect(installed.code, installed.stderr).to.equal(0);
    operator = await startInstalledOperator(plane);
    await expectCaBundlesOwnedByTheOperator(plane);

    const upgraded = await helm(plane.adminKubeconfigPath, [
      'upgrade',
      'agentrunbook',
      CHART,
      '-n',
      OPERATOR_NAMESPACE,
      '--set',
      'workers=6',
    ]);
    expect(upgraded.code, upgraded.stderr).to.equal(0);
    await expectCaBundlesOwnedByTheOperator(plane);
    await operator.stop();
    operator = undefined;

    const uninstalled = await helm(plane.adminKubeconfigPath, [
      'uninstall',
      'agentrunbook',
      '-n',
      OPERATOR_NAMESPACE,
      '--wait',
    ]);
    expect(uninstalled.code, uninstalled.stderr).to.equal(0);
    expect(uninstalled.stdout + uninstalled.stderr).to.contain('kept due to the resource policy');
    await expectOnlyTheCrdLeft(admin);
  });

  it('a second release in its own namespace: its own names, namespace-scoped rights, and the CRD left to the first', async () => {
    plane = await ControlPlane.start();
    const admin = plane.adminKubeconfigPath;
    const install = async (name: string, namespace: string, ...set: string[]) => {
      const result = await helm(admin, [
        'install',
        name,
        CHART,
        '-n',
        namespace,
        '--create-namespace',
        ...set.flatMap((value) => ['--set', value]),
      ]);
      expect(result.code, result.stderr).to.equal(0);
    };
    await install('agentrunbook', OPERATOR_NAMESPACE);
    // The namespaces it watches hold its Roles: they exist before the install.
    await mustRun(admin, ['create', 'namespace', 'team-c']);
    await install('team-b', 'team-b', 'crds.install=false', 'watchNamespaces={team-b,team-c}');
    operator = await startInstalledOperator(plane);
    const crdCa = () =>
      mustRun(admin, [
        'get',
        'crd',
        CRD_NAME,
        '-o',
        'jsonpath={.spec.conversion.webhook.clientConfig.caBundle}',
      ]);
    const firstCa = await crdCa();
    expect(firstCa).not.to.equal('');

    // Started with only what the chart granted: a Role in each of team-b and team-c for runbooks,
    // Jobs and Pods (its access check and its caches of both namespaces would fail otherwise).
    const second = await startInstalledOperator(plane, undefined, {
      namespace: 'team-b',
      fullname: 'team-b-agentrunbook',
      watches: ['team-b', 'team-c'],
    });
    try {
      const clusterRole = JSON.parse(
        await mustRun(admin, ['get', 'clusterrole', 'team-b-agentrunbook-operator', '-o', 'json']),
      ) as { rules: { resources: string[] }[] };
      expect(clusterRole.rules.flatMap((rule) => rule.resources)).not.to.include.members(['jobs', 'pods']);
      const webhook = JSON.parse(
        await mustRun(admin, [
          'get',
          'validatingwebhookconfiguration',
          'team-b-agentrunbook-validation',
          '-o',
          'json',
        ]),
      ) as {
        webhooks: {
          clientConfig: { caBundle?: string; service: { name: string; namespace: string } };
          namespaceSelector: unknown;
        }[];
      };
      expect(webhook.webhooks[0]?.clientConfig.service).to.include({
        name: 'team-b-agentrunbook-webhook',
        namespace: 'team-b',
      });
      expect(webhook.webhooks[0]?.clientConfig.caBundle, 'its own CA').to.be.a('string').and.not.empty;
      expect(webhook.webhooks[0]?.namespaceSelector).to.deep.equal({
        matchExpressions: [
          { key: 'kubernetes.io/metadata.name', operator: 'In', values: ['team-b', 'team-c'] },
        ],
      });
      expect(await crdCa(), "the CRD keeps the first release's CA").to.equal(firstCa);
    } finally {
      await second.stop();
    }
  });
});
