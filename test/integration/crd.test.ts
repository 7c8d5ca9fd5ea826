import { KubeConfig } from '@kubernetes/client-node';
import { expect } from 'chai';
import { request, type RequestOptions } from 'node:https';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { ControlPlane } from '../../hack/local-cluster/control-plane.js';
import { sharedControlPlane } from '../support/shared-control-plane.js';
import { kubectl } from '../../hack/local-cluster/tools.js';
import { waitForCrdEstablished } from '../../hack/local-cluster/install-operator.js';
import { repoRoot } from '../../hack/local-cluster/paths.js';
import { examplesDir, exampleFiles } from '../support/runbooks.js';
import { INVALID_CASES, buildInvalid } from '../support/invalid-runbooks.js';
import { eventually } from '../support/eventually.js';
import { GROUP, PLURAL, STORAGE_VERSION } from '../../src/api/group.js';
import { UNREAD_ANSWER_ACCEPT } from '../../src/kube/http.js';

const CRD_FILE = join(repoRoot, 'crds', 'agentrunbooks.i2s.studio.yaml');

describe('the AgentRunbook CRD on a real API server', function () {
  this.timeout(120_000);
  let plane: ControlPlane;
  let namespace: string;
  const k = (...args: string[]) => kubectl(plane.adminKubeconfigPath, args);

  before(async () => {
    plane = await sharedControlPlane();
    const applied = await k('apply', '--server-side', '-f', CRD_FILE);
    expect(applied.code, applied.stderr).to.equal(0);
    namespace = `crd-${Date.now().toString(36)}`;
    expect((await k('create', 'namespace', namespace)).code).to.equal(0);
  });

  it('installs and becomes Established', async () => {
    await waitForCrdEstablished(plane.adminKubeconfigPath);
  });

  // manifests/install.yaml carries the same CRD (test/unit/packaging/chart.test.ts).
  for (const [flag, path] of [['-k', 'config/crd']] as const) {
    it(`installs the same CRDs from ${flag} ${path}`, async () => {
      const applied = await k(
        'apply',
        '--server-side',
        '--dry-run=server',
        '-o',
        'name',
        flag,
        join(repoRoot, path),
      );
      expect(applied.code, applied.stderr).to.equal(0);
      expect(applied.stdout.trim().split('\n')).to.deep.equal([
        'customresourcedefinition.apiextensions.k8s.io/agentrunbooks.i2s.studio',
        'customresourcedefinition.apiextensions.k8s.io/agentrunbooktemplates.i2s.studio',
        'customresourcedefinition.apiextensions.k8s.io/agents.i2s.studio',
        'customresourcedefinition.apiextensions.k8s.io/cachedresults.i2s.studio',
        'customresourcedefinition.apiextensions.k8s.io/clusteragentrunbooktemplates.i2s.studio',
        'customresourcedefinition.apiextensions.k8s.io/clusteragents.i2s.studio',
        'customresourcedefinition.apiextensions.k8s.io/clustergatepolicies.i2s.studio',
        'customresourcedefinition.apiextensions.k8s.io/gatedecisions.i2s.studio',
        'customresourcedefinition.apiextensions.k8s.io/gatepolicies.i2s.studio',
      ]);
    });
  }

  it('explains the Agent kinds with kubectl explain', async () => {
    const applied = await k('apply', '--server-side', '-f', join(repoRoot, 'crds', 'agents.i2s.studio.yaml'));
    expect(applied.code, applied.stderr).to.equal(0);
    const explained = await eventually(async () => {
      const result = await k('explain', 'agent.spec.podTemplate.securityContext');
      expect(result.code, result.stderr).to.equal(0);
      return result;
    });
    expect(explained.stdout).to.contain('readOnlyRootFilesystem').and.contain('may only make it stricter');
  });

  it('explains its fields with kubectl explain', async () => {
    // The API server publishes a new CRD's OpenAPI document a little after it is Established.
    const explained = await eventually(async () => {
      const result = await k('explain', 'agentrunbook.spec.budgets.tokens');
      expect(result.code, result.stderr).to.equal(0);
      return result;
    });
    expect(explained.stdout).to.contain('perAgent');
    expect(explained.stdout).to.contain('Most tokens one stage attempt may use');
  });

  for (const file of exampleFiles()) {
    it(`accepts examples/${file} in a server dry run, then for real`, async () => {
      const path = join(examplesDir, file);
      const dryRun = await k('apply', '--dry-run=server', '-n', namespace, '-f', path);
      expect(dryRun.code, dryRun.stderr).to.equal(0);
      expect(dryRun.stdout).to.contain('(server dry run)');
      const applied = await k('apply', '-n', namespace, '-f', path);
      expect(applied.code, applied.stderr).to.equal(0);
      expect(applied.stdout).to.match(/created|configured|unchanged/);
    });
  }

  it('applies the defaults the schema declares', async () => {
    const got = await k(
      'get',
      'arb',
      'normalize-research',
      '-n',
      namespace,
      '-o',
      'jsonpath={.spec.execution.parallelism}',
    );
    expect(got.code, got.stderr).to.equal(0);
    expect(got.stdout).to.equal('5');
  });

  for (const resource of ['agentrunbooks', 'arb']) {
    it(`kubectl get ${resource} prints the printer columns`, async () => {
      const listed = await k('get', resource, '-n', namespace);
      expect(listed.code, listed.stderr).to.equal(0);
      const [header, ...rows] = listed.stdout.trim().split('\n');
      expect(header?.split(/\s+/)).to.deep.equal(['NAME', 'PHASE', 'PROGRESS', 'TOKENS', 'COST', 'AGE']);
      expect(rows.map((row) => row.split(/\s+/)[0]).sort()).to.deep.equal(
        [
          'ai-task-manager-base',
          'ai-task-manager-runbook',
          'cached-research',
          'competitor-brief',
          'fan-out-research',
          'idea-123-runbook',
          'llm-market-research',
          'market-scan',
          'normalize-research',
        ].sort(),
      );
    });
  }

  it('shows status figures in the printer columns once the status subresource is written', async () => {
    const patched = await k(
      'patch',
      'arb',
      'market-scan',
      '-n',
      namespace,
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({
        status: { phase: 'Running', progress: '1/3', usage: { tokens: 41200, costUSD: '1.84' } },
      }),
    );
    expect(patched.code, patched.stderr).to.equal(0);
    const listed = await k('get', 'arb', 'market-scan', '-n', namespace, '--no-headers');
    expect(listed.stdout.split(/\s+/).slice(0, 5)).to.deep.equal([
      'market-scan',
      'Running',
      '1/3',
      '41200',
      '1.84',
    ]);
  });

  it('answers a write asked for metadata only (as the operator asks when it does not read the answer) with the metadata, and stores the write', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(plane.adminKubeconfigPath);
    /** A write with UNREAD_ANSWER_ACCEPT; resolves with the answer's status code and parsed body. */
    const write = async (method: string, path: string, body: object) => {
      const options: RequestOptions = {
        method,
        headers: { Accept: UNREAD_ANSWER_ACCEPT, 'Content-Type': 'application/json' },
      };
      await kc.applyToHTTPSOptions(options);
      const url = new URL(`${kc.getCurrentCluster()?.server ?? ''}${path}`);
      return new Promise<{ code: number; answer: Record<string, unknown> }>((resolve, reject) => {
        const call = request(url, options, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            resolve({
              code: res.statusCode ?? 0,
              answer: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
            });
          });
        });
        call.on('error', reject);
        call.end(JSON.stringify(body));
      });
    };
    const stored = JSON.parse(
      (await k('get', 'arb', 'market-scan', '-n', namespace, '-o', 'json')).stdout,
    ) as {
      status?: Record<string, unknown>;
    };
    stored.status = { ...stored.status, progress: '2/3' };
    const updated = await write(
      'PUT',
      `/apis/${GROUP}/${STORAGE_VERSION}/namespaces/${namespace}/${PLURAL}/market-scan/status`,
      stored,
    );
    expect(updated.code, JSON.stringify(updated.answer)).to.equal(200);
    expect(updated.answer.kind).to.equal('PartialObjectMetadata');
    expect(updated.answer).to.not.have.any.keys('spec', 'status');
    expect((updated.answer.metadata as { name?: string }).name).to.equal('market-scan');
    const progress = await k(
      'get',
      'arb',
      'market-scan',
      '-n',
      namespace,
      '-o',
      'jsonpath={.status.progress}',
    );
    expect(progress.stdout).to.equal('2/3');
    const created = await write('POST', `/api/v1/namespaces/${namespace}/configmaps`, {
      metadata: { name: 'metadata-only' },
      data: { key: 'value' },
    });
    expect(created.code, JSON.stringify(created.answer)).to.equal(201);
    expect(created.answer.kind).to.equal('PartialObjectMetadata');
    expect(created.answer).to.not.have.property('data');
    const data = await k('get', 'configmap', 'metadata-only', '-n', namespace, '-o', 'jsonpath={.data.key}');
    expect(data.stdout).to.equal('value');
  });

  describe('refuses invalid runbooks, naming the field', () => {
    expect(INVALID_CASES.length).to.be.at.least(15);
    for (const testCase of INVALID_CASES.filter((c) => !c.webhookOnly)) {
      it(`${testCase.title} (${testCase.field})`, async () => {
        const manifest = stringify(buildInvalid(testCase));
        const applied = await kubectl(
          plane.adminKubeconfigPath,
          ['apply', '-n', namespace, '-f', '-'],
          manifest,
        );
        expect(applied.code, `accepted:\n${manifest}`).to.not.equal(0);
        expect(applied.stderr).to.contain(testCase.field);
        if (testCase.message) expect(applied.stderr).to.contain(testCase.message);
      });
    }
  });
});
