import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse, parseAllDocuments } from 'yaml';
import { validateAgentRunbook } from '../../../src/api/validator.js';
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
/** The operator's container in the chart rendered with `set`. */
const operatorContainer = (set: string[]) =>
  (
    find(documents(renderChart('ops', set)), 'Deployment').spec as {
      template: { spec: { containers: { args: string[]; env: { name: string; value?: string }[] }[] } };
    }
  ).template.spec.containers[0];
/** The value of the operator's environment variable `name` in the chart rendered with `set`. */
const operatorEnv = (set: string[], name: string) =>
  operatorContainer(set)?.env.find((variable) => variable.name === name)?.value;

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
    // Skipped: cert-manager's 2 kinds, the Prometheus Operator's (2 ServiceMonitors, a
    // PrometheusRule, a PodMonitor), and each variant's helm test runbook (checked below).
    const variants = Object.keys(CHART_VARIANTS).length;
    expect(output).to.match(new RegExp(`Invalid: 0, Errors: 0, Skipped: ${6 + variants}\\b`));
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
    const chart = documents(renderChart('agentrunbook-system', [])).filter(
      (m) => !m.metadata.annotations?.['helm.sh/hook'],
    );
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
      'env',
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
    const args = (set: string[]) => operatorContainer(set)?.args;
    expect(args([])).to.include('--max-output-bytes=1048576');
    expect(args(['maxOutputBytes=65536'])).to.include('--max-output-bytes=65536');
  });

  it('gives the operator the V8 settings of nodeOptions, and V8’s defaults for none', () => {
    const env = (set: string[]) => operatorEnv(set, 'NODE_OPTIONS');
    expect(env([])).to.equal('--max-semi-space-size=2');
    expect(env(['nodeOptions=--max-old-space-size=256'])).to.equal('--max-old-space-size=256');
    expect(env(['nodeOptions='])).to.equal(undefined);
  });

  it('gives the operator two malloc arenas by default, and glibc’s default for 0', () => {
    const env = (set: string[]) => operatorEnv(set, 'MALLOC_ARENA_MAX');
    expect(env([])).to.equal('2');
    expect(env(['mallocArenaMax=4'])).to.equal('4');
    expect(env(['mallocArenaMax=0'])).to.equal(undefined);
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

  describe('values for how clusters are run', () => {
    const render = (set: string[], namespace = 'ops', release = 'agentrunbook') =>
      documents(renderChart(namespace, set, release));
    const deployment = (manifests: Manifest[]) =>
      (
        find(manifests, 'Deployment').spec as {
          template: {
            spec: {
              serviceAccountName: string;
              hostNetwork?: boolean;
              imagePullSecrets?: { name: string }[];
              volumes: { name: string }[];
              containers: { image: string; args: string[]; volumeMounts: { name: string }[] }[];
            };
          };
        }
      ).template.spec;
    const clusterScoped = new Set([
      'ClusterRole',
      'ClusterRoleBinding',
      'ValidatingWebhookConfiguration',
      'MutatingWebhookConfiguration',
      'CustomResourceDefinition',
    ]);

    it('selects each workload’s own Pods, under any release name: Deployments and Services', () => {
      for (const [release, set] of [
        ['agentrunbook', ['console.enabled=true']],
        ['runbooks', ['console.enabled=true', 'watchNamespaces={team-a}']],
        ['x', ['console.enabled=true', 'fullnameOverride=ops', 'nameOverride=runbooks']],
      ] as const) {
        const rendered = render([...set], 'ops', release);
        const podLabels = rendered
          .filter((m) => m.kind === 'Deployment')
          .map((m) => {
            const spec = m.spec as {
              selector: { matchLabels: Record<string, string> };
              template: { metadata: { labels: Record<string, string> } };
            };
            expect(spec.template.metadata.labels, `${release}: ${m.metadata.name}`).to.include(
              spec.selector.matchLabels,
            );
            return spec.template.metadata.labels;
          });
        expect(podLabels, release).to.have.length(2);
        for (const service of rendered.filter((m) => m.kind === 'Service')) {
          const selector = (service.spec as { selector: Record<string, string> }).selector;
          const selected = podLabels.filter((labels) =>
            Object.entries(selector).every(([key, value]) => labels[key] === value),
          );
          expect(selected, `${release}: Service ${service.metadata.name}`).to.have.length(1);
        }
      }
    });

    it('takes global values from a parent chart: imageRegistry, imagePullSecrets, and keys of other charts', () => {
      const pod = deployment(
        render([
          'global.imageRegistry=mirror.example.com',
          'global.imagePullSecrets[0]=mirror-pull',
          'global.storageClass=fast',
          'imagePullSecrets[0].name=own-pull',
        ]),
      );
      expect(pod.containers[0]?.image).to.equal('mirror.example.com/i2s-studio/agentrunbook-operator:0.1.0');
      expect(pod.imagePullSecrets).to.deep.equal([{ name: 'mirror-pull' }, { name: 'own-pull' }]);
      const digest = `sha256:${'ab'.repeat(32)}`;
      expect(deployment(render([`image.digest=${digest}`, 'image.tag=9.9.9'])).containers[0]?.image).to.equal(
        `ghcr.io/i2s-studio/agentrunbook-operator@${digest}`,
      );
    });

    it('lets two releases share a cluster: no object in common, the CRDs installed by one', () => {
      const first = render([], 'agentrunbook-system');
      const second = render(['crds.install=false', 'watchNamespaces={team-b}'], 'team-b', 'team-b');
      const ids = (manifests: Manifest[]) =>
        manifests.map((m) => (clusterScoped.has(m.kind) ? `${m.kind}//${m.metadata.name}` : identity(m)));
      expect(ids(second).filter((id) => ids(first).includes(id))).to.deep.equal([]);
      expect(ids(second).some((id) => id.startsWith('ClusterRole//team-b-agentrunbook-'))).to.equal(true);
      const args = deployment(second).containers[0]?.args ?? [];
      expect(args).to.include.members([
        '--webhook-service=team-b-agentrunbook-webhook',
        '--webhook-secret=team-b-agentrunbook-webhook-tls',
        '--validating-webhook-configuration=team-b-agentrunbook-validation',
        '--mutating-webhook-configuration=team-b-agentrunbook-approval',
        '--leader-election-id=team-b-agentrunbook-operator',
      ]);
      const named = render(['fullnameOverride=ops-runbooks'], 'ops', 'whatever');
      expect(find(named, 'Deployment').metadata.name).to.equal('ops-runbooks-operator');
      expect(deployment(named).serviceAccountName).to.equal('ops-runbooks-operator');
    });

    it('grants the operator its rights on runbooks and Jobs in the watched namespaces only, with watchNamespaces', () => {
      const rules = (manifest: Manifest) =>
        (manifest as unknown as { rules: { resources: string[] }[] }).rules.flatMap((rule) => rule.resources);
      const named = (manifests: Manifest[], kind: string, name: string) =>
        manifests.filter((m) => m.kind === kind && m.metadata.name === name);
      const [wide] = named(render([]), 'ClusterRole', 'agentrunbook-operator');
      expect(wide && rules(wide)).to.include.members(['jobs', 'pods']);
      const scoped = render(['watchNamespaces={team-a,team-b}']);
      const [clusterWide] = named(scoped, 'ClusterRole', 'agentrunbook-operator');
      expect(clusterWide && rules(clusterWide)).not.to.include.members(['jobs']);
      const roles = named(scoped, 'Role', 'agentrunbook-operator-controller');
      expect(roles.map((role) => role.metadata.namespace)).to.deep.equal(['team-a', 'team-b']);
      for (const role of roles) expect(rules(role)).to.include.members(['jobs', 'pods', 'agentrunbooks']);
      const bindings = named(scoped, 'RoleBinding', 'agentrunbook-operator-controller');
      expect(bindings.map((binding) => binding.metadata.namespace)).to.deep.equal(['team-a', 'team-b']);
      const args = deployment(scoped).containers[0]?.args ?? [];
      expect(args).to.include('--namespace=team-a,team-b');
      const webhook = find(scoped, 'ValidatingWebhookConfiguration') as unknown as {
        webhooks: { namespaceSelector: unknown }[];
      };
      expect(webhook.webhooks[0]?.namespaceSelector).to.deep.equal({
        matchExpressions: [
          { key: 'kubernetes.io/metadata.name', operator: 'In', values: ['team-a', 'team-b'] },
        ],
      });
    });

    it('makes the chart’s ClusterAgents Agents of each watched namespace, with watchNamespaces', () => {
      const library = (set: string[]) => {
        const config = find(render(set), 'ConfigMap') as unknown as { data: Record<string, string> };
        return (
          parse(config.data['agent-library.yaml'] ?? '') as { items: { kind: string; metadata: object }[] }
        ).items;
      };
      expect(library([]).map((agent) => [agent.kind, agent.metadata])).to.deep.equal([
        ['ClusterAgent', { name: 'reference' }],
      ]);
      expect(
        library(['watchNamespaces={team-a,team-b}']).map((agent) => [agent.kind, agent.metadata]),
      ).to.deep.equal([
        ['Agent', { name: 'reference', namespace: 'team-a' }],
        ['Agent', { name: 'reference', namespace: 'team-b' }],
      ]);
    });

    it('makes no ServiceAccount or RBAC when told not to, and runs as the ServiceAccount named', () => {
      const rendered = render([
        'serviceAccount.create=false',
        'serviceAccount.name=platform-sa',
        'rbac.create=false',
      ]);
      const kinds = rendered.map((m) => m.kind);
      expect(kinds).not.to.include.members(['ServiceAccount', 'ClusterRoleBinding']);
      expect(kinds.filter((kind) => kind === 'ClusterRole')).to.deep.equal([]);
      expect(deployment(rendered).serviceAccountName).to.equal('platform-sa');
      const annotated = render(['serviceAccount.annotations.team=platform']);
      expect(find(annotated, 'ServiceAccount').metadata.annotations).to.deep.equal({ team: 'platform' });
    });

    it('aggregates view, edit and admin ClusterRoles into the built-in roles; only admin approves', () => {
      const roles = render([]).filter((m) =>
        /^agentrunbook-(view|edit|admin)$/.test(m.metadata.name),
      ) as unknown as {
        metadata: { name: string; labels: Record<string, string> };
        rules: { resources: string[]; verbs: string[] }[];
      }[];
      expect(roles.map((role) => role.metadata.name)).to.deep.equal([
        'agentrunbook-view',
        'agentrunbook-edit',
        'agentrunbook-admin',
      ]);
      const aggregatesTo = (name: string) =>
        Object.keys(roles.find((role) => role.metadata.name === name)?.metadata.labels ?? {})
          .filter((label) => label.startsWith('rbac.authorization.k8s.io/aggregate-to-'))
          .map((label) => label.split('-').pop());
      expect(aggregatesTo('agentrunbook-view')).to.deep.equal(['view', 'edit', 'admin']);
      expect(aggregatesTo('agentrunbook-edit')).to.deep.equal(['edit', 'admin']);
      expect(aggregatesTo('agentrunbook-admin')).to.deep.equal(['admin']);
      const approvers = roles.filter((role) => role.rules.some((rule) => rule.verbs.includes('approve')));
      expect(approvers.map((role) => role.metadata.name)).to.deep.equal(['agentrunbook-admin']);
      expect(render(['rbac.aggregateClusterRoles=false']).map((m) => m.metadata.name)).not.to.include(
        'agentrunbook-view',
      );
    });

    it('keeps the CRDs on uninstall unless crds.keep is false', () => {
      const kept = (set: string[]) =>
        render(set)
          .filter((m) => m.kind === 'CustomResourceDefinition')
          .map((m) => m.metadata.annotations?.['helm.sh/resource-policy']);
      expect(new Set(kept([]))).to.deep.equal(new Set(['keep']));
      expect(new Set(kept(['crds.keep=false']))).to.deep.equal(new Set([undefined]));
    });

    it('passes webhook options, hostNetwork and the extra args, volumes and objects through', () => {
      const rendered = render([
        'webhook.failurePolicy=Ignore',
        'webhook.timeoutSeconds=12',
        'webhook.namespaceSelector.matchLabels.runbooks=on',
        'hostNetwork=true',
        'extraArgs[0]=--reconcile-budget=2s',
        'extraVolumes[0].name=scratch',
        'extraVolumes[0].emptyDir.medium=Memory',
        'extraVolumeMounts[0].name=scratch',
        'extraVolumeMounts[0].mountPath=/scratch',
        'extraObjects[0]=apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-extra',
        'extraObjects[1].apiVersion=v1',
        'extraObjects[1].kind=Secret',
        'extraObjects[1].metadata.name=plain',
      ]);
      for (const kind of ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration']) {
        for (const webhook of (find(rendered, kind) as unknown as { webhooks: Record<string, unknown>[] })
          .webhooks) {
          expect(webhook).to.include({ failurePolicy: 'Ignore', timeoutSeconds: 12 });
          expect(webhook.namespaceSelector).to.deep.equal({ matchLabels: { runbooks: 'on' } });
        }
      }
      const pod = deployment(rendered);
      expect(pod.hostNetwork).to.equal(true);
      expect(pod.containers[0]?.args).to.include('--reconcile-budget=2s');
      expect(pod.volumes.map((volume) => volume.name)).to.include('scratch');
      expect(pod.containers[0]?.volumeMounts.map((mount) => mount.name)).to.include('scratch');
      expect(rendered.map(identity)).to.include.members(['ConfigMap//agentrunbook-extra', 'Secret//plain']);
    });

    it('offers a ServiceMonitor and a PodMonitor with their scrape options', () => {
      const rendered = render([
        'metrics.serviceMonitor.enabled=true',
        'metrics.serviceMonitor.namespace=monitoring',
        'metrics.serviceMonitor.scrapeTimeout=5s',
        'metrics.serviceMonitor.metricRelabelings[0].action=labeldrop',
        'metrics.serviceMonitor.metricRelabelings[0].regex=le',
        'metrics.podMonitor.enabled=true',
        'metrics.podMonitor.interval=15s',
      ]);
      const monitor = find(rendered, 'ServiceMonitor') as unknown as Manifest & {
        spec: { endpoints: Record<string, unknown>[] };
      };
      expect(monitor.metadata.namespace).to.equal('monitoring');
      expect(monitor.spec.endpoints[0]).to.include({ scrapeTimeout: '5s', interval: '30s' });
      expect(monitor.spec.endpoints[0]?.metricRelabelings).to.deep.equal([
        { action: 'labeldrop', regex: 'le' },
      ]);
      const pods = find(rendered, 'PodMonitor') as unknown as Manifest & {
        spec: {
          podMetricsEndpoints: Record<string, unknown>[];
          selector: { matchLabels: Record<string, string> };
        };
      };
      expect(pods.spec.podMetricsEndpoints[0]).to.include({ port: 'metrics', interval: '15s' });
      expect(pods.spec.selector.matchLabels).to.include({ 'app.kubernetes.io/instance': 'agentrunbook' });
    });

    it('refuses values outside what the schema allows, naming them', () => {
      for (const [set, field] of [
        ['webhook.failurePolicy=Maybe', 'failurePolicy'],
        ['webhook.timeoutSeconds=60', 'timeoutSeconds'],
        ['extraArgs[0]=reconcile', 'extraArgs'],
        ['fullnameOverride=Team_B', 'fullnameOverride'],
        ['image.digest=latest', 'digest'],
        ['metrics.podMonitor.colour=red', 'colour'],
      ] as const) {
        const { code, output } = run(layerBinary('helm'), ['template', 'x', CHART, '--set', set]);
        expect(code, `${set}: ${output}`).not.to.equal(0);
        expect(output).to.contain(field);
      }
    });
  });

  describe('Artifact Hub and helm test', () => {
    const chartYaml = parse(readFileSync(join(CHART, 'Chart.yaml'), 'utf8')) as {
      annotations: Record<string, string>;
    };
    const annotation = (key: string): unknown => parse(chartYaml.annotations[key] ?? '');

    it('lists in artifacthub.io/crds exactly the CRDs the chart installs, with a valid example', () => {
      const installed = documents(renderChart('ops', []))
        .filter((m) => m.kind === 'CustomResourceDefinition')
        .map((m) => m.metadata.name)
        .sort();
      const listed = annotation('artifacthub.io/crds') as { name: string; kind: string }[];
      expect(listed.map((crd) => crd.name).sort()).to.deep.equal(installed);
      for (const example of annotation('artifacthub.io/crdsExamples') as unknown[]) {
        expect(validateAgentRunbook(example)).to.deep.equal([]);
      }
      const images = (annotation('artifacthub.io/images') as { image: string }[]).map((entry) => entry.image);
      expect(images).to.include(
        (
          find(documents(renderChart('ops', [])), 'Deployment').spec as {
            template: { spec: { containers: { image: string }[] } };
          }
        ).template.spec.containers[0]?.image,
      );
    });

    it('helm test waits, with rights to read its runbook only, for a valid one-stage runbook', () => {
      const hooks = documents(renderChart('ops', [])).filter(
        (m) => m.metadata.annotations?.['helm.sh/hook'] === 'test',
      );
      expect(hooks.map((m) => m.kind).sort()).to.deep.equal([
        'AgentRunbook',
        'Pod',
        'Role',
        'RoleBinding',
        'ServiceAccount',
      ]);
      expect(validateAgentRunbook(find(hooks, 'AgentRunbook'))).to.deep.equal([]);
      const role = find(hooks, 'Role') as unknown as {
        rules: { verbs: string[]; resourceNames: string[] }[];
      };
      expect(role.rules).to.have.length(1);
      expect(role.rules[0]?.verbs).to.deep.equal(['get', 'list', 'watch']);
      expect(role.rules[0]?.resourceNames).to.deep.equal(['agentrunbook-test']);
      const pod = find(hooks, 'Pod').spec as { containers: { args: string[] }[] };
      expect(pod.containers[0]?.args.slice(0, 2)).to.deep.equal(['wait', 'agentrunbook-test']);
      expect(pod.containers[0]?.args).to.include('phase=Succeeded');
    });
  });
});
