import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parseAllDocuments } from 'yaml';
import { CHART_VARIANTS, renderChart } from '../../../hack/generated-files.js';
import { repoRoot } from '../../../hack/local-cluster/paths.js';
import { layerBinary } from '../../../hack/local-cluster/tools.js';

const CHART = join(repoRoot, 'helm', 'agentrunbook-operator');

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
}

const documents = (text: string): Manifest[] =>
  parseAllDocuments(text)
    .map((doc) => doc.toJS() as Manifest | null)
    .filter((doc): doc is Manifest => doc !== null);
const identity = (m: Manifest) => `${m.kind}/${m.metadata.namespace ?? ''}/${m.metadata.name}`;
const installYaml = () => documents(readFileSync(join(repoRoot, 'manifests', 'install.yaml'), 'utf8'));
const find = (manifests: Manifest[], kind: string) => {
  const found = manifests.find((m) => m.kind === kind);
  if (!found) throw new Error(`no ${kind}`);
  return found;
};

function run(command: string, args: string[], input?: string) {
  const result = spawnSync(command, args, { encoding: 'utf8', input, cwd: repoRoot });
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('the Helm chart and install.yaml', function () {
  this.timeout(300_000);

  it('passes helm lint --strict', () => {
    const { code, output } = run(layerBinary('helm'), ['lint', '--strict', CHART]);
    expect(code, output).to.equal(0);
    expect(output).not.to.match(/\[(WARNING|ERROR)\]/);
  });

  it('renders only objects valid against the Kubernetes 1.34 schemas (kubeconform, strict)', () => {
    const rendered = Object.values(CHART_VARIANTS)
      .map(({ namespace, set }) => renderChart(namespace, set))
      .join('\n---\n');
    const chartFile = join(mkdtempSync(join(tmpdir(), 'chart-')), 'rendered.yaml');
    writeFileSync(chartFile, rendered);
    const { code, output } = run('bash', [
      join(repoRoot, 'hack', 'kubeconform.sh'),
      chartFile,
      'manifests/install.yaml',
    ]);
    expect(code, output).to.equal(0);
    // Skipped: cert-manager's 2 kinds and the Prometheus Operator's 2.
    expect(output).to.match(/Invalid: 0, Errors: 0, Skipped: 4\b/);
  });

  it('kubeconform does fail on an invalid object, so the check above can fail', () => {
    const bad =
      'apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {ports: [{port: "https"}], colour: red}\n';
    const { code, output } = run('bash', [join(repoRoot, 'hack', 'kubeconform.sh'), '-'], bad);
    expect(code, output).to.equal(1);
  });

  it('refuses values that break values.schema.json, naming the value', () => {
    for (const [set, field] of [
      ['replicaCount=-1', 'replicaCount'],
      ['leaderElection.leaseDuration=fifteen', 'leaseDuration'],
      ['logFormat=xml', 'logFormat'],
      ['colour=red', 'colour'],
      ['maxOutputBytes=2097152', 'maxOutputBytes'],
    ] as const) {
      const { code, output } = run(layerBinary('helm'), ['template', 'x', CHART, '--set', set]);
      expect(code, `${set}: ${output}`).not.to.equal(0);
      expect(output).to.contain(field);
    }
  });

  it('installs the same objects as install.yaml, the CRD kept on uninstall', () => {
    const chart = documents(renderChart('agentrunbook-system', []));
    const kustomized = installYaml();
    // `helm install --create-namespace` makes the namespace; install.yaml has to carry it.
    expect(chart.map(identity).sort()).to.deep.equal(
      kustomized
        .filter((m) => m.kind !== 'Namespace')
        .map(identity)
        .sort(),
    );
    const crd = find(chart, 'CustomResourceDefinition');
    expect(crd.metadata.annotations?.['helm.sh/resource-policy']).to.equal('keep');
    expect(crd.spec).to.deep.equal(find(kustomized, 'CustomResourceDefinition').spec);
    const generated = documents(
      readFileSync(join(repoRoot, 'crds', 'agentrunbooks.i2s.studio.yaml'), 'utf8'),
    );
    expect(find(kustomized, 'CustomResourceDefinition')).to.deep.equal(
      find(generated, 'CustomResourceDefinition'),
    );
    const podSpec = (m: Manifest) =>
      (m.spec as { template: { spec: { containers: Record<string, unknown>[] } } }).template.spec;
    const [chartContainer] = podSpec(find(chart, 'Deployment')).containers;
    const [kustomizeContainer] = podSpec(find(kustomized, 'Deployment')).containers;
    for (const field of [
      'ports',
      'livenessProbe',
      'readinessProbe',
      'securityContext',
      'resources',
      'image',
    ]) {
      expect(chartContainer?.[field], field).to.deep.equal(kustomizeContainer?.[field]);
    }
    expect(podSpec(find(chart, 'Deployment'))).to.include.keys(
      'securityContext',
      'topologySpreadConstraints',
    );
  });

  it('puts the webhook Service in the release namespace and leaves the CRD out on request', () => {
    const rendered = documents(
      renderChart('ops', ['crds.install=false', 'webhook.certManager.enabled=true']),
    );
    expect(rendered.map((m) => m.kind)).not.to.include('CustomResourceDefinition');
    expect(rendered.map((m) => m.kind)).to.include.members(['Certificate', 'Issuer']);
    expect(
      rendered.map((m) => m.kind),
      'cert-manager writes the Secret',
    ).not.to.include('Secret');
    const webhook = find(rendered, 'ValidatingWebhookConfiguration') as unknown as {
      webhooks: { clientConfig: { service: { namespace: string } } }[];
    };
    expect(webhook.webhooks[0]?.clientConfig.service.namespace).to.equal('ops');
    const deployment = JSON.stringify(find(rendered, 'Deployment'));
    expect(deployment).to.contain('--cert-manager');
  });

  it('hands the operator its output limit, 1 MiB unless set lower', () => {
    const args = (set: string[]) =>
      (
        find(documents(renderChart('ops', set)), 'Deployment').spec as {
          template: { spec: { containers: { args: string[] }[] } };
        }
      ).template.spec.containers[0]?.args;
    expect(args([])).to.include('--max-output-bytes=1048576');
    expect(args(['maxOutputBytes=65536'])).to.include('--max-output-bytes=65536');
  });

  it('deploys the console on request with no rights of its own: no token mounted, no binding, TLS only', () => {
    const plain = documents(renderChart('ops', []));
    expect(plain.map(identity)).not.to.include('Deployment/ops/agentrunbook-console');
    const rendered = documents(renderChart('ops', ['console.enabled=true']));
    const deployment = rendered.find((m) => identity(m) === 'Deployment/ops/agentrunbook-console');
    const pod = (deployment?.spec as { template: { spec: Record<string, unknown> } }).template.spec as {
      serviceAccountName: string;
      automountServiceAccountToken: boolean;
      containers: { args: string[]; readinessProbe: { httpGet: { scheme: string } } }[];
      volumes: { configMap?: { name: string } }[];
    };
    expect(pod.serviceAccountName).to.equal('agentrunbook-console');
    expect(pod.automountServiceAccountToken).to.equal(false);
    expect(pod.containers[0]?.args).to.include.members(['console', '--in-cluster']);
    expect(pod.containers[0]?.readinessProbe.httpGet.scheme).to.equal('HTTPS');
    expect(pod.volumes).to.deep.include({ name: 'api-ca', configMap: { name: 'kube-root-ca.crt' } });
    const bound = rendered
      .filter((m) => m.kind === 'RoleBinding' || m.kind === 'ClusterRoleBinding')
      .flatMap((m) => (m as unknown as { subjects?: { name: string }[] }).subjects ?? []);
    expect(bound.map((subject) => subject.name)).not.to.include('agentrunbook-console');
    // Its Pods carry a name of their own, so the operator's Service and PDB never select them.
    const operatorService = rendered.find(
      (m) => m.kind === 'Service' && m.metadata.name !== 'agentrunbook-console',
    );
    expect(JSON.stringify(operatorService?.spec)).to.contain('agentrunbook-operator');
  });
});
