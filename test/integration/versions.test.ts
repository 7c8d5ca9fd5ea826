import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { parse, stringify } from 'yaml';
import type { AgentCatalog } from '../../src/api/catalog.js';
import { Operator } from '../../src/operator/operator.js';
import { KubeHttp } from '../../src/kube/http.js';
import { OPERATOR_NAMESPACE } from '../../src/operator/rbac.js';
import { CertificateAuthority, serialOf } from '../../src/webhook/pki.js';
import { CertificateStore } from '../../src/webhook/certificates.js';
import { silentLogger } from '../../src/observability/logger.js';
import { ControlPlane } from '../../hack/local-cluster/control-plane.js';
import { FakeNode } from '../../hack/local-cluster/fake-node.js';
import { freePort } from '../../hack/local-cluster/ports.js';
import { repoRoot } from '../../hack/local-cluster/paths.js';
import { waitForCrdEstablished } from '../../hack/local-cluster/install-operator.js';
import { kubectl } from '../../hack/local-cluster/tools.js';
import {
  installOperator,
  startWebhookOperator as startWebhookOperatorOn,
  testNamespace,
  WEBHOOK_SECRET,
} from '../support/operator-harness.js';
import { scenarioFrom, succeed } from '../support/scripted-agents.js';

const CATALOG: AgentCatalog = {
  agents: ['normalize', 'research'].map((name) => ({ name, image: `x/${name}:1` })),
};

/** The specification's 1.0 layout: agents keyed by name, timeout at the agent, legacy options. */
function v1Runbook(name: string) {
  return {
    apiVersion: 'i2s.studio/v1',
    kind: 'AgentRunbook',
    metadata: { name },
    spec: {
      version: '1.0.0',
      context: { title: 'AI Task Manager' },
      execution: { mode: 'hybrid', retries: 1 },
      agents: {
        normalize: { version: '1.2.0', timeout: '30s', config: { inputs: { title: '${context.title}' } } },
        research: { version: '1.1.0', timeout: '2m', dependsOn: ['normalize'] },
      },
      legacy: { options: { verbose: true } },
    },
  };
}

describe('API versions: v1 through the conversion webhook, the validating webhook, certificates', function () {
  this.timeout(180_000);
  let plane: ControlPlane;
  let namespace: string;
  let node: FakeNode;
  let operator: Operator | undefined;
  let operatorKubeconfig: string;
  let port: number;
  const k = (...args: string[]) => kubectl(plane.adminKubeconfigPath, ['-n', namespace, ...args]);
  const apply = (object: unknown) =>
    kubectl(plane.adminKubeconfigPath, ['-n', namespace, 'apply', '-f', '-'], stringify(object));
  const http = () => new KubeHttp(plane.adminConfig());
  const secret = async () => {
    const got = await kubectl(plane.adminKubeconfigPath, [
      '-n',
      OPERATOR_NAMESPACE,
      'get',
      'secret',
      WEBHOOK_SECRET,
      '-o',
      'json',
    ]);
    return JSON.parse(got.stdout) as { metadata: { resourceVersion: string }; data: Record<string, string> };
  };
  const secretVersion = async (name: string) =>
    (
      await kubectl(plane.adminKubeconfigPath, [
        '-n',
        OPERATOR_NAMESPACE,
        'get',
        'secret',
        name,
        '-o',
        'jsonpath={.metadata.resourceVersion}',
      ])
    ).stdout;
  const startWebhookOperator = async () => {
    operator = await startWebhookOperatorOn(operatorKubeconfig, { port, catalog: CATALOG, namespace });
  };

  before(async () => {
    plane = await ControlPlane.start();
    // Objects stored while v1 was the storage version: install a CRD that stores v1 first.
    const crd = parse(readFileSync(join(repoRoot, 'crds', 'agentrunbooks.i2s.studio.yaml'), 'utf8')) as {
      spec: { conversion?: unknown; versions: { name: string; storage: boolean }[] };
    };
    crd.spec.conversion = { strategy: 'None' };
    for (const version of crd.spec.versions) version.storage = version.name === 'v1';
    const old = await kubectl(
      plane.adminKubeconfigPath,
      ['apply', '--server-side', '-f', '-'],
      stringify(crd),
    );
    expect(old.code, old.stderr).to.equal(0);
    await waitForCrdEstablished(plane.adminKubeconfigPath);
    namespace = await testNamespace(plane, 'versions');
    const stored = await apply(v1Runbook('stored-as-v1'));
    expect(stored.code, stored.stderr).to.equal(0);
    const raw = await plane.etcdValue(`/registry/i2s.studio/agentrunbooks/${namespace}/stored-as-v1`);
    expect(raw).to.contain('"apiVersion":"i2s.studio/v1"');
    operatorKubeconfig = await installOperator(plane);
    node = new FakeNode(plane.adminConfig(), { namespace, scenario: scenarioFrom(() => succeed()) });
    await node.start();
    port = await freePort();
    await startWebhookOperator();
  });

  after(async () => {
    await operator?.stop();
    await node.stop();
    await plane.stop();
  });

  it('migrates objects stored as v1 to v2 and trims storedVersions to [v2]', async () => {
    const stored = await kubectl(plane.adminKubeconfigPath, [
      'get',
      'crd',
      'agentrunbooks.i2s.studio',
      '-o',
      'jsonpath={.status.storedVersions}',
    ]);
    expect(JSON.parse(stored.stdout)).to.deep.equal(['v2']);
    const raw = await plane.etcdValue(`/registry/i2s.studio/agentrunbooks/${namespace}/stored-as-v1`);
    expect(raw).to.contain('"apiVersion":"i2s.studio/v2"');
  });

  it('accepts a v1 runbook in the old layout, reads it as v2 and as v1, and runs it', async () => {
    const applied = await apply(v1Runbook('old-layout'));
    expect(applied.code, applied.stderr).to.equal(0);
    const asV2 = JSON.parse(
      (await k('get', 'agentrunbooks.v2.i2s.studio', 'old-layout', '-o', 'json')).stdout,
    ) as {
      spec: {
        agents: { pipeline: { name: string; config?: { timeout?: string } }[] };
        execution: { parallelism: number };
      };
    };
    expect(asV2.spec.agents.pipeline.map((stage) => [stage.name, stage.config?.timeout])).to.deep.equal([
      ['normalize', '30s'],
      ['research', '2m'],
    ]);
    expect(asV2.spec.execution.parallelism).to.equal(5);
    const asV1 = JSON.parse(
      (await k('get', 'agentrunbooks.v1.i2s.studio', 'old-layout', '-o', 'json')).stdout,
    ) as {
      spec: Record<string, unknown>;
    };
    expect(asV1.spec).to.deep.include({
      agents: v1Runbook('x').spec.agents,
      legacy: { options: { verbose: true } },
    });
    const done = await k(
      'wait',
      '--for=jsonpath={.status.phase}=Succeeded',
      '--timeout=60s',
      'agentrunbooks.v2.i2s.studio/old-layout',
    );
    expect(done.code, done.stderr).to.equal(0);
  });

  it('accepts the v1 examples (examples/v1/) in a server dry run and for real', async () => {
    const path = join(repoRoot, 'examples', 'v1');
    const dryRun = await k('apply', '--dry-run=server', '-f', path);
    expect(dryRun.code, dryRun.stderr).to.equal(0);
    const applied = await k('apply', '-f', path);
    expect(applied.code, applied.stderr).to.equal(0);
    const layout = await k(
      'get',
      'agentrunbooks.v1.i2s.studio',
      'legacy-layout',
      '-o',
      'jsonpath={.spec.legacy.options.verboseLogging}',
    );
    expect(layout.stdout).to.equal('true');
    // The 1.0.0 layout's inputs at the agent's top level: under config in v2, back on top in v1.
    const v2Inputs = await k('get', 'agentrunbooks.v2.i2s.studio', 'legacy-layout', '-o', 'json');
    const stage = (
      JSON.parse(v2Inputs.stdout) as { spec: { agents: { pipeline: { name: string; config?: object }[] } } }
    ).spec.agents.pipeline.find((entry) => entry.name === 'normalize');
    expect(stage?.config).to.deep.include({ inputs: { idea_text: '${context.ideaText}' } });
    const v1Inputs = await k(
      'get',
      'agentrunbooks.v1.i2s.studio',
      'legacy-layout',
      '-o',
      'jsonpath={.spec.agents.normalize.inputs.idea_text}',
    );
    expect(v1Inputs.stdout).to.equal('${context.ideaText}');
    // Set twice, at the top and under config: refused, naming the field.
    const twice = v1Runbook('twice');
    Object.assign(twice.spec.agents.normalize, { inputs: { title: 'x' } });
    const refused = await kubectl(
      plane.adminKubeconfigPath,
      ['-n', namespace, 'apply', '--dry-run=server', '-f', '-'],
      stringify(twice),
    );
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.match(/spec\.agents\[normalize\]\.inputs: .*inputs is set twice/);
  });

  it('refuses what the schema cannot say, naming the field, and warns about spec.version', async () => {
    const cyclic = {
      apiVersion: 'i2s.studio/v2',
      kind: 'AgentRunbook',
      metadata: { name: 'cyclic' },
      spec: {
        version: '1.0.0',
        execution: { mode: 'hybrid' },
        agents: {
          pipeline: [
            { name: 'a', dependsOn: ['b'] },
            { name: 'b', dependsOn: ['a'] },
          ],
        },
      },
    };
    const refused = await apply(cyclic);
    expect(refused.code).to.not.equal(0);
    expect(refused.stderr)
      .to.contain('denied the request')
      .and.contain('spec.agents.pipeline')
      .and.contain('cycle');
    const badCel = {
      ...cyclic,
      metadata: { name: 'bad-cel' },
      spec: {
        ...cyclic.spec,
        agents: { pipeline: [{ name: 'a' }] },
        quality: { gates: [{ name: 'g', condition: 'context.riskLevel >' }] },
      },
    };
    const celRefused = await apply(badCel);
    expect(celRefused.stderr).to.contain('spec.quality.gates[0].condition: is not a valid CEL expression');
    const first = await apply({
      ...badCel,
      metadata: { name: 'versioned' },
      spec: { version: '1.0.0', agents: { pipeline: [{ name: 'a' }, { name: 'b' }] } },
    });
    expect(first.code, first.stderr).to.equal(0);
    const unbumped = await apply({
      ...badCel,
      metadata: { name: 'versioned' },
      spec: {
        version: '1.0.0',
        description: 'changed',
        agents: { pipeline: [{ name: 'a' }, { name: 'b' }] },
      },
    });
    expect(unbumped.code, unbumped.stderr).to.equal(0);
    expect(unbumped.stderr).to.contain('Warning: spec changed but spec.version is still 1.0.0');
    const minor = await apply({
      ...badCel,
      metadata: { name: 'versioned' },
      spec: { version: '1.1.0', agents: { pipeline: [{ name: 'a' }] } },
    });
    expect(minor.stderr).to.contain('removing stage b is a breaking change');
    const badAlert = await apply({
      ...badCel,
      metadata: { name: 'bad-alert' },
      spec: {
        ...cyclic.spec,
        agents: { pipeline: [{ name: 'a' }] },
        monitoring: { alerts: [{ name: 'slow', condition: 'execution_duration > 20', severity: 'high' }] },
      },
    });
    expect(badAlert.stderr).to.contain('spec.monitoring.alerts[0].condition: is not a valid CEL condition');
    const badMetric = await apply({
      ...badCel,
      metadata: { name: 'bad-metric' },
      spec: {
        ...cyclic.spec,
        agents: { pipeline: [{ name: 'a' }] },
        monitoring: { metrics: [{ name: 'queue_depth', type: 'gauge' }] },
      },
    });
    expect(badMetric.stderr).to.contain('spec.monitoring.metrics[0].name').and.contain('Unsupported value');
  });

  it('counts the webhook requests it answered, by code and outcome, with their latency', async () => {
    const text = await (await fetch(`http://127.0.0.1:${String(operator?.metricsPort)}/metrics`)).text();
    const value = (series: string) => {
      const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
      return line === undefined ? 0 : Number(line.slice(series.length + 1));
    };
    expect(
      value('controller_runtime_webhook_requests_total{webhook="validate",code="200"}'),
    ).to.be.greaterThan(0);
    expect(
      value('agentrunbook_webhook_reviews_total{webhook="validate",outcome="denied"}'),
    ).to.be.greaterThan(0);
    expect(
      value('agentrunbook_webhook_reviews_total{webhook="validate",outcome="allowed"}'),
    ).to.be.greaterThan(0);
    expect(
      value('agentrunbook_webhook_reviews_total{webhook="convert",outcome="converted"}'),
    ).to.be.greaterThan(0);
    expect(value('controller_runtime_webhook_latency_seconds_count{webhook="validate"}')).to.be.greaterThan(
      0,
    );
  });

  it('made its certificates once and reuses them after a restart', async () => {
    const before = await secret();
    await operator?.stop();
    await startWebhookOperator();
    const after = await secret();
    expect(after.metadata.resourceVersion).to.equal(before.metadata.resourceVersion);
    const caBundle = await kubectl(plane.adminKubeconfigPath, [
      'get',
      'crd',
      'agentrunbooks.i2s.studio',
      '-o',
      'jsonpath={.spec.conversion.webhook.clientConfig.caBundle}',
    ]);
    expect(Buffer.from(caBundle.stdout, 'base64').toString()).to.equal(
      Buffer.from(after.data['ca.crt'] ?? '', 'base64').toString(),
    );
  });

  it('renews an expiring serving certificate from the same CA, and the API server keeps calling the webhook', async () => {
    const current = await secret();
    const ca = await CertificateAuthority.load({
      certificate: Buffer.from(current.data['ca.crt'] ?? '', 'base64').toString(),
      privateKey: Buffer.from(current.data['ca.key'] ?? '', 'base64').toString(),
    });
    const expiring = await ca.issue({
      commonName: 'localhost',
      usage: 'server',
      ipAddresses: ['127.0.0.1'],
      dnsNames: ['localhost'],
      validityMs: 3600_000,
    });
    await http().request({
      method: 'PATCH',
      path: `/api/v1/namespaces/${OPERATOR_NAMESPACE}/secrets/${WEBHOOK_SECRET}`,
      contentType: 'application/merge-patch+json',
      body: {
        data: {
          'tls.crt': Buffer.from(expiring.certificate).toString('base64'),
          'tls.key': Buffer.from(expiring.privateKey).toString('base64'),
        },
      },
    });
    await operator?.webhook?.renew();
    const renewed = await secret();
    const serial = serialOf(Buffer.from(renewed.data['tls.crt'] ?? '', 'base64').toString());
    expect(serial).to.not.equal(serialOf(expiring.certificate));
    expect(renewed.data['ca.crt']).to.equal(current.data['ca.crt']);
    const read = await k(
      'get',
      'agentrunbooks.v1.i2s.studio',
      'old-layout',
      '-o',
      'jsonpath={.spec.legacy.options.verbose}',
    );
    expect(read.code, read.stderr).to.equal(0);
    expect(read.stdout).to.equal('true');
  });

  it('with --cert-manager, serves the Secret cert-manager keeps and never writes it', async () => {
    const ca = await CertificateAuthority.create('cert-manager-ca');
    const serving = await ca.issue({ commonName: 'localhost', usage: 'server', ipAddresses: ['127.0.0.1'] });
    const b64 = (text: string) => Buffer.from(text).toString('base64');
    await http().request({
      method: 'POST',
      path: `/api/v1/namespaces/${OPERATOR_NAMESPACE}/secrets`,
      body: {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'from-cert-manager', namespace: OPERATOR_NAMESPACE },
        type: 'kubernetes.io/tls',
        data: {
          'tls.crt': b64(serving.certificate),
          'tls.key': b64(serving.privateKey),
          'ca.crt': b64(ca.certificatePem),
        },
      },
    });
    const store = new CertificateStore(
      http(),
      { namespace: OPERATOR_NAMESPACE, secretName: 'from-cert-manager', dnsNames: ['x'], certManager: true },
      silentLogger(),
    );
    const before = await secretVersion('from-cert-manager');
    const tls = await store.ensure(Date.now() + 400 * 24 * 3600_000);
    expect(tls).to.deep.equal({
      caPem: ca.certificatePem,
      certificate: serving.certificate,
      privateKey: serving.privateKey,
    });
    const after = await secretVersion('from-cert-manager');
    expect(after).to.equal(before);
    const missing = new CertificateStore(
      http(),
      { namespace: OPERATOR_NAMESPACE, secretName: 'not-there', dnsNames: ['x'], certManager: true },
      silentLogger(),
    );
    const failure = await missing.ensure().then(
      () => undefined,
      (error: unknown) => (error as Error).message,
    );
    expect(failure).to.contain('not-there').and.contain('lacks ca.crt, tls.crt or tls.key');
  });

  it('with the webhook unreachable, says so clearly and loses nothing already stored', async () => {
    const before = await k(
      'get',
      'agentrunbooks.v2.i2s.studio',
      'old-layout',
      '-o',
      'jsonpath={.metadata.resourceVersion}',
    );
    await operator?.stop();
    operator = undefined;
    const v1 = await apply(v1Runbook('while-down'));
    expect(v1.code).to.not.equal(0);
    expect(v1.stderr).to.match(
      /conversion webhook for i2s.studio\/v1|(author|validate)\.agentrunbooks\.i2s\.studio/,
    );
    // A stopped operator points the webhooks back at their Service, which this plane lacks.
    expect(v1.stderr, v1.stderr).to.match(/service "agentrunbook-webhook" not found|failed calling webhook/);
    const v2 = await apply({
      apiVersion: 'i2s.studio/v2',
      kind: 'AgentRunbook',
      metadata: { name: 'while-down-v2' },
      spec: { version: '1.0.0', agents: { pipeline: [{ name: 'a' }] } },
    });
    expect(v2.code).to.not.equal(0);
    // The mutating webhook (the author) is called first.
    expect(v2.stderr).to.contain('failed calling webhook "author.agentrunbooks.i2s.studio"');
    const after = await k(
      'get',
      'agentrunbooks.v2.i2s.studio',
      'old-layout',
      '-o',
      'jsonpath={.metadata.resourceVersion}',
    );
    expect(after.stdout).to.equal(before.stdout);
    const phase = await k(
      'get',
      'agentrunbooks.v2.i2s.studio',
      'old-layout',
      '-o',
      'jsonpath={.status.phase}',
    );
    expect(phase.stdout).to.equal('Succeeded');
  });
});
