/**
 * `make e2e`: the chart and the images on a real one-node cluster (containerd, runc, a kubelet),
 * asserted the way a user would look, with kubectl and helm. Needs root and `make image`.
 * With E2E_KUBECONFIG set (`make e2e-kind`), the same checks run on that cluster instead, which
 * must already have the images.
 */
import { chmodSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse, stringify } from 'yaml';
import { newGateDecision } from '../../src/api/v2/gate-decision.js';
import { OPERATOR_NAME, OPERATOR_NAMESPACE } from '../../src/operator/rbac.js';
import { mustRun } from '../../hack/local-cluster/install-operator.js';
import { repoRoot } from '../../hack/local-cluster/paths.js';
import { BRIDGE_ADDRESS, RealCluster } from '../../hack/local-cluster/real-node.js';
import { helm as runHelm, kubectl as runKubectl } from '../../hack/local-cluster/tools.js';
import { launchBrowser } from '../support/browser.js';
import { expectOnlyTheCrdLeft, leaseHolder } from '../support/installation.js';
import { runbook } from '../support/runbook-env.js';
import { startCli } from '../support/cli-process.js';
import { completion, OpenAiServer } from '../support/openai-server.js';

const NAMESPACE = 'e2e';
/** Installed as a platform team would: a release name of its own, rights in the watched namespace only. */
const RELEASE = 'runbooks';
const FULLNAME = `${RELEASE}-agentrunbook`;
const DEPLOYMENT = `${FULLNAME}-operator`;
const CHART = join(repoRoot, 'helm', 'agentrunbook-operator');
const IMAGES = join(repoRoot, 'dist', 'images');
const VERSION = '0.1.0';
const timings: [string, number][] = [];
/** What a user would see at a few points (kubectl output), printed after the run for its record. */
const seen: [string, string][] = [];

async function timed<T>(what: string, step: () => Promise<T>): Promise<T> {
  const started = Date.now();
  const result = await step();
  timings.push([what, Date.now() - started]);
  return result;
}

interface RunbookRow {
  metadata: { name: string };
  status?: { phase?: string; gates?: { name: string; phase: string; since?: string }[] };
}

describe('make e2e: the chart and the images on a real kubelet', function () {
  this.timeout(600_000);
  let cluster: RealCluster | undefined;
  let admin = process.env.E2E_KUBECONFIG ?? '';
  /** Where the operator reaches kube-apiserver on our own node, which has no kube-proxy. */
  let apiServer: { host: string; port: string } | undefined;
  const apiServerValues = () =>
    apiServer
      ? ['extraEnv', 'console.extraEnv'].flatMap((values) => [
          '--set',
          `${values}[0].name=KUBERNETES_SERVICE_HOST`,
          '--set',
          `${values}[0].value=${apiServer?.host ?? ''}`,
          '--set',
          `${values}[1].name=KUBERNETES_SERVICE_PORT`,
          '--set-string',
          `${values}[1].value=${apiServer?.port ?? ''}`,
        ])
      : [];
  const k = (...args: string[]) => mustRun(admin, args);
  const helm = async (...args: string[]) => {
    const result = await runHelm(admin, args);
    if (result.code !== 0) throw new Error(`helm ${args.join(' ')} failed: ${result.stdout}${result.stderr}`);
    return result.stdout + result.stderr;
  };
  const runbooks = async () =>
    (JSON.parse(await k('-n', NAMESPACE, 'get', 'agentrunbooks', '-o', 'json')) as { items: RunbookRow[] })
      .items;

  /** Waits until every runbook Succeeded, approving gates on the way as a person would. */
  const waitAllSucceeded = async (timeoutMs = 240_000) => {
    const approved = new Set<string>();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const rows = await runbooks();
      for (const row of rows) {
        for (const gate of row.status?.gates ?? []) {
          const key = `${row.metadata.name}/${gate.name}`;
          if (gate.phase !== 'Pending' || !gate.since || approved.has(key)) continue;
          approved.add(key);
          const decision = newGateDecision({
            namespace: NAMESPACE,
            runbook: row.metadata.name,
            gate: gate.name,
            decision: 'Approved',
          });
          await mustRun(admin, ['create', '-f', '-'], stringify(decision));
        }
      }
      const failed = rows.filter((row) =>
        ['Failed', 'TimedOut', 'BudgetExceeded', 'Cancelled'].includes(row.status?.phase ?? ''),
      );
      expect(failed.map((row) => `${row.metadata.name}: ${row.status?.phase ?? ''}`)).to.deep.equal([]);
      if (rows.length > 0 && rows.every((row) => row.status?.phase === 'Succeeded')) return;
      if (Date.now() > deadline)
        throw new Error(`not all Succeeded: ${await k('-n', NAMESPACE, 'get', 'arb')}`);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  };

  /** Stage names of a runbook's Jobs, one entry per Job. */
  const jobStages = async (name: string) =>
    (
      await k(
        '-n',
        NAMESPACE,
        'get',
        'jobs',
        '-l',
        `i2s.studio/runbook=${name}`,
        '-o',
        'jsonpath={range .items[*]}{.metadata.labels.i2s\\.studio/stage}{"\\n"}{end}',
      )
    )
      .split('\n')
      .filter(Boolean)
      .sort();

  /** Applies an object (a runbook, a Secret) in the test namespace. */
  const apply = (object: unknown) => mustRun(admin, ['-n', NAMESPACE, 'apply', '-f', '-'], stringify(object));
  /** Waits until the runbook's run has Succeeded. */
  const succeeded = (name: string, timeout: string) =>
    k(
      '-n',
      NAMESPACE,
      'wait',
      '--for=jsonpath={.status.phase}=Succeeded',
      `--timeout=${timeout}`,
      `arb/${name}`,
    );

  /** A runbook whose agents think for a while, so something can happen to the operator mid-run. */
  const applySlowRunbook = async (name: string) => {
    const slow = { parameters: { delayMs: 4000 } };
    await apply(
      runbook(name, 'pipeline', [
        { name: 'normalize', config: slow },
        { name: 'research', config: slow },
      ]),
    );
    const deadline = Date.now() + 60_000;
    while ((await jobStages(name)).length === 0) {
      if (Date.now() > deadline) throw new Error(`no Job of ${name} started`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  };

  const leaderPod = async () => (await leaseHolder(admin, DEPLOYMENT)).split('_')[0] ?? '';

  /** An OpenAI-compatible endpoint the LLM agent's Pods reach on the node's bridge (own node only). */
  const llmServer = new OpenAiServer();
  let llmValues: string[] = [];
  /** The chart's catalog, plus an agent of the LLM agent image that calls llmServer. */
  const withLlmAgent = (baseURL: string) => {
    const values = parse(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as {
      operatorConfig: { agents: unknown[] };
    };
    const operatorConfig = {
      ...values.operatorConfig,
      agents: [
        ...values.operatorConfig.agents,
        {
          name: 'llm_researcher',
          image: `ghcr.io/i2s-studio/agentrunbook-llm-agent:${VERSION}`,
          llm: { baseURL, model: 'e2e-model' },
          secretEnv: { LLM_API_KEY: { secret: 'llm-api-key', key: 'api-key' } },
        },
        {
          name: 'py_llm_researcher',
          image: `ghcr.io/i2s-studio/agentrunbook-python-llm-agent:${VERSION}`,
          llm: { baseURL, model: 'e2e-model' },
          secretEnv: { LLM_API_KEY: { secret: 'llm-api-key', key: 'api-key' } },
        },
      ],
      prices: { 'e2e-model': { inputPerMillionTokens: '1.00', outputPerMillionTokens: '4.00' } },
    };
    // A team's Agent the chart installs too (its namespace exists before the operator starts).
    const agents = {
      ...(values as unknown as { agents: Record<string, unknown> }).agents,
      namespaced: [
        {
          name: 'chart-research',
          namespace: NAMESPACE,
          spec: {
            image: `ghcr.io/i2s-studio/agentrunbook-agent:${VERSION}`,
            command: ['node', '/app/dist/agent/main.js'],
          },
        },
      ],
    };
    const file = join(mkdtempSync(join(tmpdir(), 'e2e-values-')), 'values.yaml');
    writeFileSync(file, stringify({ operatorConfig, agents }));
    return ['-f', file];
  };

  before(async () => {
    if (admin) return;
    const started = await timed('start the one-node cluster (node Ready)', () =>
      RealCluster.start((message) => {
        console.log(`      e2e: ${message}`);
      }),
    );
    cluster = started;
    admin = started.plane.adminKubeconfigPath;
    for (const name of [
      'agentrunbook-operator',
      'agentrunbook-agent',
      'agentrunbook-llm-agent',
      'agentrunbook-python-llm-agent',
    ]) {
      started.importImage(join(IMAGES, `${name}.oci.tar`), `ghcr.io/i2s-studio/${name}:${VERSION}`);
    }
    apiServer = { host: BRIDGE_ADDRESS, port: new URL(started.plane.server).port };
    llmValues = withLlmAgent(await llmServer.start(BRIDGE_ADDRESS));
  });

  after(async () => {
    await llmServer.stop();
    await cluster?.stop();
    console.log('      e2e timings:');
    for (const [what, ms] of timings) console.log(`        ${(ms / 1000).toFixed(1).padStart(6)} s  ${what}`);
    for (const [command, output] of seen)
      console.log(`      $ ${command}\n${output.replace(/^/gm, '        ')}`);
  });

  it('helm install --wait gives two ready replicas, one of them the leader', async () => {
    // The watched namespace holds the operator's Role: it exists before the install.
    await k('create', 'namespace', NAMESPACE);
    await timed('helm install --wait', () =>
      helm(
        'install',
        RELEASE,
        CHART,
        '-n',
        OPERATOR_NAMESPACE,
        '--create-namespace',
        '--wait',
        '--timeout=5m',
        '--set',
        'console.enabled=true',
        '--set',
        `watchNamespaces={${NAMESPACE}}`,
        ...apiServerValues(),
        ...llmValues,
      ),
    );
    expect(
      await k(
        '-n',
        OPERATOR_NAMESPACE,
        'get',
        'deployment',
        DEPLOYMENT,
        '-o',
        'jsonpath={.status.readyReplicas}',
      ),
    ).to.equal('2');
    const pods = await k(
      '-n',
      OPERATOR_NAMESPACE,
      'get',
      'pods',
      '-l',
      `app.kubernetes.io/name=${OPERATOR_NAME}`,
      '-o',
      'name',
    );
    await timed('a leader is elected', async () => {
      const deadline = Date.now() + 60_000;
      while (!(await leaderPod())) {
        if (Date.now() > deadline) throw new Error('no leader');
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    });
    expect(pods).to.contain(`pod/${await leaderPod()}`);
    // The leader applied the chart's agents: its ClusterAgent, an Agent of the watched namespace
    // here (the operator may not choose images for others), and (own node) a team's Agent.
    await timed('the chart’s agents applied', async () => {
      const deadline = Date.now() + 60_000;
      const want = cluster ? ['chart-research', 'reference'] : ['reference'];
      for (;;) {
        const found = (
          await mustRun(admin, ['-n', NAMESPACE, 'get', 'agents', '-o', 'jsonpath={.items[*].metadata.name}'])
        )
          .split(' ')
          .filter(Boolean);
        if (want.every((name) => found.includes(name))) break;
        if (Date.now() > deadline)
          throw new Error(`the chart's agents were not applied: ${found.join(', ')}`);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    });
  });

  it('runs every example (v2 and v1) to Succeeded in real agent containers, with termination messages from the kubelet', async () => {
    await timed('wait for the default ServiceAccount', () =>
      k('-n', NAMESPACE, 'wait', '--for=create', '--timeout=60s', 'serviceaccount/default'),
    );
    // The leader applies the template library the chart handed it, once it leads.
    const libraryDeadline = Date.now() + 60_000;
    const libraryNames = async () =>
      (await k('get', 'clusteragentrunbooktemplates', '-o', 'name')).split('\n').filter(Boolean);
    while ((await libraryNames()).length < 11) {
      if (Date.now() > libraryDeadline)
        throw new Error(`the library is incomplete: ${(await libraryNames()).join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(await libraryNames()).to.have.length(11);
    const files = [
      ...readdirSync(join(repoRoot, 'examples'))
        .filter((f) => f.endsWith('.yaml'))
        .map((f) => join('examples', f)),
      ...readdirSync(join(repoRoot, 'examples', 'v1')).map((f) => join('examples', 'v1', f)),
    ];
    for (const file of files) await k('-n', NAMESPACE, 'apply', '-f', join(repoRoot, file));
    await timed(`${files.length} example runbooks to Succeeded`, () => waitAllSucceeded());
    const messages = await k(
      '-n',
      NAMESPACE,
      'get',
      'pods',
      '-o',
      'jsonpath={range .items[*]}{.status.containerStatuses[0].state.terminated.message}{"\\n"}{end}',
    );
    const reports = messages.split('\n').filter(Boolean);
    expect(reports.length).to.be.greaterThan(files.length);
    for (const report of reports) expect(JSON.parse(report)).to.have.nested.property('usage.tokens');
  });

  it('examples/fan-out-research profiles 20 competitors as 20 Pods the kubelet ran, skips its security review by when and runs competitor-brief as a child', async () => {
    const jobs = JSON.parse(
      await k(
        '-n',
        NAMESPACE,
        'get',
        'jobs',
        '-l',
        'i2s.studio/runbook=fan-out-research,i2s.studio/stage=profile',
        '-o',
        'json',
      ),
    ) as { items: { metadata: { labels: Record<string, string> }; status?: { succeeded?: number } }[] };
    const items = jobs.items
      .map((job) => Number(job.metadata.labels['i2s.studio/item']))
      .sort((a, b) => a - b);
    expect(items, 'one Job per item').to.deep.equal(Array.from({ length: 20 }, (_, index) => index));
    expect(jobs.items.every((job) => job.status?.succeeded === 1)).to.equal(true);
    const status = (
      JSON.parse(await k('-n', NAMESPACE, 'get', 'arb', 'fan-out-research', '-o', 'json')) as {
        status: {
          progress: string;
          stages: {
            name: string;
            phase: string;
            reason?: string;
            outputs?: Record<string, unknown>;
            items?: unknown;
          }[];
        };
      }
    ).status;
    const stage = (name: string) => status.stages.find((entry) => entry.name === name);
    expect(status.progress).to.equal('5/5');
    expect(stage('brief')).to.deep.include({ phase: 'Succeeded' });
    expect(stage('brief')?.outputs).to.have.property('brief');
    expect(stage('profile')?.items).to.deep.include({
      count: 20,
      succeeded: 20,
      failed: 0,
      succeededIndexes: '0-19',
    });
    expect(stage('security-review')).to.include({ phase: 'Skipped', reason: 'ConditionNotMet' });
    expect(stage('write')?.phase).to.equal('Succeeded');
  });

  it('kubectl logs shows what a stage’s agent did', async () => {
    const job =
      (await k('-n', NAMESPACE, 'get', 'jobs', '-l', 'i2s.studio/stage=research', '-o', 'name')).split(
        '\n',
      )[0] ?? '';
    expect(job).to.match(/^job\.batch\//);
    expect(await k('-n', NAMESPACE, 'logs', job)).to.match(
      /reference agent: stage research: outputs .*tokens/,
    );
  });

  it('stores examples/cached-research’s results under the image digest the kubelet reported, and reuses them when only its last stage changes', async () => {
    const stored = JSON.parse(await k('-n', NAMESPACE, 'get', 'cachedresults', '-o', 'json')) as {
      items: { spec: { origin: { runbook: string; stage: string }; image: string; imageDigest?: string } }[];
    };
    const mine = stored.items.filter((result) => result.spec.origin.runbook === 'cached-research');
    expect(mine.map((result) => result.spec.origin.stage).sort()).to.deep.equal([
      'analyze',
      'research',
      'write',
    ]);
    for (const result of mine) expect(result.spec.imageDigest).to.match(/^sha256:[0-9a-f]{64}$/);
    await k(
      '-n',
      NAMESPACE,
      'patch',
      'agentrunbook',
      'cached-research',
      '--type=json',
      '-p',
      '[{"op":"replace","path":"/spec/agents/pipeline/2/config/parameters/tone","value":"formal"}]',
    );
    await timed('the changed cached-research to Succeeded', async () => {
      await k(
        '-n',
        NAMESPACE,
        'wait',
        '--for=jsonpath={.status.observedGeneration}=2',
        '--timeout=120s',
        'agentrunbook/cached-research',
      );
      await k(
        '-n',
        NAMESPACE,
        'wait',
        '--for=jsonpath={.status.phase}=Succeeded',
        '--timeout=120s',
        'agentrunbook/cached-research',
      );
    });
    const reasons = await k(
      '-n',
      NAMESPACE,
      'get',
      'agentrunbook',
      'cached-research',
      '-o',
      'jsonpath={range .status.stages[*]}{.name}={.reason}{" "}{end}',
    );
    expect(reasons.trim()).to.equal('research=Cached analyze=Cached write=Succeeded');
    const ran = await k(
      '-n',
      NAMESPACE,
      'get',
      'jobs',
      '-l',
      'i2s.studio/runbook=cached-research,i2s.studio/execution=g2',
      '-o',
      'jsonpath={range .items[*]}{.metadata.labels.i2s\\.studio/stage}{" "}{end}',
    );
    // The new run made one Job: write's.
    expect(ran.trim()).to.equal('write');
  });

  it('agentrunbook logs and get show a run from its Pods, as the kubelet serves their logs', async () => {
    const runbookName = await k(
      '-n',
      NAMESPACE,
      'get',
      'jobs',
      '-l',
      'i2s.studio/stage=research',
      '-o',
      'jsonpath={.items[0].metadata.labels.i2s\\.studio/runbook}',
    );
    const cli = async (...args: string[]) => {
      const run = startCli([...args, `--kubeconfig=${admin}`, '-n', NAMESPACE]);
      expect(await run.exited, run.output()).to.equal(0);
      return run.output();
    };
    expect(await cli('logs', runbookName, '--stage', 'research')).to.match(
      /^\[research\/1\] reference agent: stage research: outputs .*tokens/m,
    );
    expect(await cli('get', runbookName))
      .to.match(/Phase: +Succeeded/)
      .and.match(/✔ research +Succeeded/);
  });

  it('a 1 MiB output flows from one stage to the next: its agent’s log, a ConfigMap, the next Pod’s projected volume', async () => {
    const name = 'one-mebibyte';
    await apply(
      runbook(name, 'pipeline', [
        {
          name: 'write',
          agent: 'research',
          config: { parameters: { outputBytes: 1024 * 1024 }, outputs: { answer: 'string' } },
        },
        {
          name: 'read',
          agent: 'research',
          config: { inputs: { text: '${write.outputs.answer}' }, outputs: { note: 'string' } },
        },
      ]),
    );
    await timed('a 1 MiB output from one real Pod to the next', () => succeeded(name, '180s'));
    const status = JSON.parse(await k('-n', NAMESPACE, 'get', 'arb', name, '-o', 'jsonpath={.status}')) as {
      stages: {
        name: string;
        job: string;
        outputRefs?: Record<string, { configMap: string; bytes: number }>;
      }[];
    };
    const [write, read] = ['write', 'read'].map((stage) => status.stages.find((s) => s.name === stage));
    expect(write?.outputRefs?.answer).to.deep.include({
      configMap: `${write?.job ?? ''}-outputs`,
      bytes: 1024 * 1024,
    });
    expect(await k('-n', NAMESPACE, 'logs', `job/${read?.job ?? ''}`)).to.match(
      /reference agent: stage read: inputs text \(1048576 bytes\)/,
    );
  });

  it('an Agent places a stage by nodeSelector and toleration on a tainted node and a RuntimeClass; it writes to /tmp and HOME', async () => {
    const node = 'localhost';
    await k('label', 'node', node, 'agentrunbook.e2e/pool=agents', '--overwrite');
    await k('taint', 'node', node, 'agentrunbook.e2e/dedicated=agents:NoSchedule', '--overwrite');
    try {
      await mustRun(
        admin,
        ['apply', '-f', '-'],
        stringify({
          apiVersion: 'node.k8s.io/v1',
          kind: 'RuntimeClass',
          metadata: { name: 'e2e-sandbox' },
          handler: 'runc',
        }),
      );
      // The reference agent, after writing a file to each scratch volume under the read-only root.
      const writeScratch =
        "const fs = require('node:fs'); fs.writeFileSync('/tmp/scratch', 'tmp'); fs.mkdirSync(process.env.HOME + '/.cache', { recursive: true }); fs.writeFileSync(process.env.HOME + '/.cache/x', 'home'); console.log('wrote /tmp and ' + process.env.HOME); import('/app/dist/agent/main.js');";
      await apply({
        apiVersion: 'i2s.studio/v2',
        kind: 'Agent',
        metadata: { name: 'placed' },
        spec: {
          image: `ghcr.io/i2s-studio/agentrunbook-agent:${VERSION}`,
          command: ['node', '-e', writeScratch],
          podTemplate: {
            nodeSelector: { 'agentrunbook.e2e/pool': 'agents' },
            tolerations: [
              { key: 'agentrunbook.e2e/dedicated', operator: 'Equal', value: 'agents', effect: 'NoSchedule' },
            ],
            runtimeClassName: 'e2e-sandbox',
            labels: { team: 'e2e' },
          },
          // The bridge CNI does not enforce NetworkPolicy: this proves the object, not the confinement.
          egress: { to: [{ cidr: '203.0.113.0/24', ports: [{ port: 443 }] }] },
        },
      });
      await apply(runbook('placed', 'pipeline', [{ name: 'research', agent: 'placed' }]));
      await timed('a stage from an Agent on a tainted node', () => succeeded('placed', '120s'));
      const pod = JSON.parse(
        await k('-n', NAMESPACE, 'get', 'pods', '-l', 'i2s.studio/runbook=placed,team=e2e', '-o', 'json'),
      ) as { items: { spec: { nodeName: string; runtimeClassName: string } }[] };
      expect(pod.items.map((item) => [item.spec.nodeName, item.spec.runtimeClassName])).to.deep.equal([
        [node, 'e2e-sandbox'],
      ]);
      seen.push([
        'kubectl describe node localhost | grep Taints; kubectl get pods -l i2s.studio/runbook=placed -o wide',
        `${(await k('describe', 'node', node)).split('\n').find((line) => line.startsWith('Taints')) ?? ''}\n${await k('-n', NAMESPACE, 'get', 'pods', '-l', 'i2s.studio/runbook=placed', '-o', 'custom-columns=POD:.metadata.name,NODE:.spec.nodeName,RUNTIMECLASS:.spec.runtimeClassName,SELECTOR:.spec.nodeSelector,STATUS:.status.phase')}`,
      ]);
      const job = (await jobStages('placed')).length;
      expect(job).to.equal(1);
      const policy = JSON.parse(
        await k('-n', NAMESPACE, 'get', 'networkpolicies', '-l', 'i2s.studio/egress-of=placed', '-o', 'json'),
      ) as { items: { spec: { podSelector: { matchLabels: Record<string, string> } } }[] };
      expect(policy.items.map((item) => item.spec.podSelector.matchLabels['i2s.studio/agent'])).to.deep.equal(
        ['placed'],
      );
      expect(await k('-n', NAMESPACE, 'logs', '-l', 'i2s.studio/runbook=placed')).to.contain(
        'wrote /tmp and /home/agent',
      );
    } finally {
      await k('taint', 'node', node, 'agentrunbook.e2e/dedicated=agents:NoSchedule-');
    }
  });

  it('a Python stage writes to /tmp, HOME and a workspace claim that the next stage reads, on the same node', async () => {
    // Our own node has no provisioner: a PersistentVolume on a directory of it serves the claim
    // (kind's default StorageClass provisions one itself).
    const storageClass = cluster ? 'e2e-local' : undefined;
    if (cluster) {
      const directory = mkdtempSync('/var/tmp/agentrunbook-e2e-pv-');
      chmodSync(directory, 0o777);
      await mustRun(
        admin,
        ['apply', '-f', '-'],
        stringify({
          apiVersion: 'v1',
          kind: 'PersistentVolume',
          metadata: { name: 'e2e-workspace' },
          spec: {
            storageClassName: storageClass,
            capacity: { storage: '1Gi' },
            accessModes: ['ReadWriteOnce'],
            persistentVolumeReclaimPolicy: 'Retain',
            hostPath: { path: directory, type: 'Directory' },
          },
        }),
      );
    }
    const image = `ghcr.io/i2s-studio/agentrunbook-python-llm-agent:${VERSION}`;
    const write = [
      'import os, pathlib',
      'from agentrunbook import read_assignment, write_report',
      'work = read_assignment()',
      "pathlib.Path('/tmp/scratch').write_text('tmp')",
      "cache = pathlib.Path(os.environ['HOME'], '.cache'); cache.mkdir(parents=True, exist_ok=True)",
      "(cache / 'x').write_text('home')",
      "notes = pathlib.Path(work.workspaces['shared'], 'notes.txt')",
      "notes.write_text('written by ' + work.stage)",
      "print('wrote /tmp, ' + os.environ['HOME'] + ' and ' + str(notes), flush=True)",
      "write_report({'outputs': {'path': str(notes)}})",
    ].join('\n');
    const read = [
      'import pathlib',
      'from agentrunbook import read_assignment, write_report',
      'work = read_assignment()',
      "write_report({'outputs': {'notes': pathlib.Path(work.workspaces['shared'], 'notes.txt').read_text()}})",
    ].join('\n');
    for (const [name, script] of [
      ['py-writer', write],
      ['py-reader', read],
    ] as const) {
      await apply({
        apiVersion: 'i2s.studio/v2',
        kind: 'Agent',
        metadata: { name },
        spec: { image, command: ['python3', '-c', script] },
      });
    }
    const name = 'py-workspace';
    await apply(
      runbook(
        name,
        'pipeline',
        [
          {
            name: 'write',
            agent: 'py-writer',
            workspaces: [{ name: 'shared' }],
            config: { outputs: { path: 'string' } },
          },
          {
            name: 'read',
            agent: 'py-reader',
            dependsOn: ['write'],
            workspaces: [{ name: 'shared', readOnly: true }],
            config: { outputs: { notes: 'string' } },
          },
        ],
        {
          workspaces: [
            {
              name: 'shared',
              volumeClaimTemplate: {
                spec: {
                  ...(storageClass ? { storageClassName: storageClass } : {}),
                  resources: { requests: { storage: '1Gi' } },
                },
              },
            },
          ],
        },
      ),
    );
    await timed('two Python stages sharing a workspace claim', () => succeeded(name, '180s'));
    const status = JSON.parse(await k('-n', NAMESPACE, 'get', 'arb', name, '-o', 'jsonpath={.status}')) as {
      stages: { name: string; outputs?: Record<string, unknown> }[];
      workspaces: { name: string; claim: string; node: string }[];
    };
    expect(status.stages.find((stage) => stage.name === 'write')?.outputs).to.deep.equal({
      path: '/workspace/shared/notes.txt',
    });
    expect(status.stages.find((stage) => stage.name === 'read')?.outputs).to.deep.equal({
      notes: 'written by write',
    });
    const [workspace] = status.workspaces;
    const claimPhase = await k(
      '-n',
      NAMESPACE,
      'get',
      'pvc',
      workspace?.claim ?? '',
      '-o',
      'jsonpath={.status.phase}',
    );
    expect(claimPhase).to.equal('Bound');
    const pods = JSON.parse(
      await k('-n', NAMESPACE, 'get', 'pods', '-l', `i2s.studio/runbook=${name}`, '-o', 'json'),
    ) as { items: { spec: { nodeName: string } }[] };
    expect(pods.items.map((pod) => pod.spec.nodeName)).to.deep.equal([workspace?.node, workspace?.node]);
    seen.push([
      `kubectl get arb ${name} -o jsonpath='{.status.workspaces}'; kubectl get pvc,pods -l i2s.studio/runbook=${name}; kubectl logs -l i2s.studio/stage=write`,
      [
        await k('-n', NAMESPACE, 'get', 'arb', name, '-o', 'jsonpath={.status.workspaces}'),
        await k('-n', NAMESPACE, 'get', 'pvc,pods', '-l', `i2s.studio/runbook=${name}`, '-o', 'wide'),
        await k('-n', NAMESPACE, 'logs', '-l', `i2s.studio/runbook=${name},i2s.studio/stage=write`),
      ].join('\n'),
    ]);
    expect(
      await k('-n', NAMESPACE, 'logs', '-l', `i2s.studio/runbook=${name},i2s.studio/stage=write`),
    ).to.contain('wrote /tmp, /home/agent and /workspace/shared/notes.txt');
  });

  it('the LLM agents’ images (TypeScript, and Python on the openai client) answer a stage from a chat-completions endpoint, their key from a Secret', async function () {
    // Pods reach the test's endpoint on our own node's bridge; a kind cluster has no route to it.
    if (!cluster) this.skip();
    await apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'llm-api-key' },
      stringData: { 'api-key': 'sk-e2e' },
    });
    llmServer.reply = () =>
      completion(JSON.stringify({ summary: 'a crowded market' }), {
        prompt_tokens: 3000,
        completion_tokens: 1000,
      });
    for (const [name, agent] of [
      ['llm-summary', 'llm_researcher'],
      ['py-llm-summary', 'py_llm_researcher'],
    ] as const) {
      const asked = llmServer.requests.length;
      await apply(
        runbook(name, 'pipeline', [
          {
            name: 'summarize',
            agent,
            config: { parameters: { prompt: 'Summarize the market.' }, outputs: { summary: 'string' } },
          },
        ]),
      );
      await succeeded(name, '120s');
      expect(llmServer.requests.length - asked, agent).to.equal(1);
      expect(llmServer.requests.at(-1)?.authorization).to.equal('Bearer sk-e2e');
      const status = JSON.parse(await k('-n', NAMESPACE, 'get', 'arb', name, '-o', 'jsonpath={.status}')) as {
        usage: unknown;
        stages: { outputs?: unknown }[];
      };
      expect(status.stages[0]?.outputs, agent).to.deep.equal({ summary: 'a crowded market' });
      // 3000 × $1/M + 1000 × $4/M = $0.007
      expect(status.usage, agent).to.deep.equal({ tokens: 4000, costUSD: '0.007' });
    }
  });

  it('serves the v1 example through the conversion webhook behind its Service', async () => {
    const endpoints = await k(
      '-n',
      OPERATOR_NAMESPACE,
      'get',
      'endpointslices',
      '-l',
      `kubernetes.io/service-name=${FULLNAME}-webhook`,
      '-o',
      'jsonpath={.items[*].endpoints[*].addresses[0]}',
    );
    expect(endpoints.split(' ').filter(Boolean)).to.have.length(2);
    expect(
      await k('-n', NAMESPACE, 'get', 'agentrunbooks.v1.i2s.studio', '-o', 'jsonpath={.items[*].apiVersion}'),
    ).to.contain('i2s.studio/v1');
    const v2 = await k(
      '-n',
      NAMESPACE,
      'get',
      'arb',
      '-o',
      'jsonpath={range .items[*]}{.metadata.name}={.status.phase}{" "}{end}',
    );
    expect(v2).to.match(/Succeeded/);
  });

  it('serves /metrics through the chart’s metrics Service, with the runs it saw and the webhooks it answered', async () => {
    const scrape = () =>
      k(
        'get',
        '--raw',
        `/api/v1/namespaces/${OPERATOR_NAMESPACE}/services/http:${FULLNAME}-operator-metrics:metrics/proxy/metrics`,
      );
    const value = (text: string, series: string) => {
      const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    };
    const names = await k('-n', NAMESPACE, 'get', 'arb', '-o', 'jsonpath={.items[*].metadata.name}');
    const examples = names.split(' ').filter(Boolean).length;
    // Either replica may answer: both keep their caches, and both serve the webhooks.
    for (let scrapes = 0; scrapes < 4; scrapes += 1) {
      const text = await scrape();
      expect(value(text, `agentrunbook_runs{namespace="${NAMESPACE}",phase="Succeeded"}`)).to.equal(examples);
      expect(text).to.match(
        new RegExp(`^leader_election_master_status\\{name="${DEPLOYMENT}"\\} [01]$`, 'm'),
      );
      expect(text).to.match(/^controller_runtime_max_concurrent_reconciles|^workqueue_depth/m);
      expect(value(text, 'process_resident_memory_bytes')).to.be.greaterThan(0);
    }
  });

  it('serves the chart’s console through its Service, and acts only with the token a viewer signs in with', async () => {
    const proxied = `/api/v1/namespaces/${OPERATOR_NAMESPACE}/services/https:${FULLNAME}-console:https/proxy`;
    // The API server's proxy rewrites the page's absolute links to go through it.
    expect(await k('get', '--raw', `${proxied}/`)).to.match(
      /<script type="module" src="[^"]*\/app\.js"><\/script>/,
    );
    expect(JSON.parse(await k('get', '--raw', `${proxied}/api/session`))).to.include({
      mode: 'cluster',
      signedIn: false,
    });
    // The API server's proxy does not pass the admin's credentials on: the console sees nobody.
    const anonymous = await runKubectl(admin, [
      'get',
      '--raw',
      `${proxied}/api/live/runbooks?namespace=${NAMESPACE}`,
    ]);
    expect(anonymous.code).to.not.equal(0);
    // kubectl words a 401 so.
    expect(anonymous.stderr).to.contain('You must be logged in to the server');

    // A person who may only read runbooks in the examples' namespace signs in with their token in
    // a real browser, at the Service's endpoint, and sees those runbooks and nothing more.
    await k('-n', NAMESPACE, 'create', 'serviceaccount', 'console-viewer');
    await k(
      '-n',
      NAMESPACE,
      'create',
      'role',
      'console-viewer',
      '--verb=get,list,watch',
      '--resource=agentrunbooks.i2s.studio',
    );
    await k(
      '-n',
      NAMESPACE,
      'create',
      'rolebinding',
      'console-viewer',
      '--role=console-viewer',
      `--serviceaccount=${NAMESPACE}:console-viewer`,
    );
    const token = (await k('-n', NAMESPACE, 'create', 'token', 'console-viewer')).trim();
    const endpoint = await k(
      '-n',
      OPERATOR_NAMESPACE,
      'get',
      'endpoints',
      `${FULLNAME}-console`,
      '-o',
      'jsonpath={.subsets[0].addresses[0].ip}:{.subsets[0].ports[0].port}',
    );
    const browser = await launchBrowser();
    try {
      const context = await browser.newContext({ ignoreHTTPSErrors: true });
      const page = await context.newPage();
      await page.goto(`https://${endpoint}/`);
      await page.getByLabel('Token').fill(token);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByText(`signed in as system:serviceaccount:${NAMESPACE}:console-viewer`).waitFor();
      await page.getByLabel('Namespace').fill(NAMESPACE);
      await page.getByRole('button', { name: 'Filter' }).click();
      const names = (await k('-n', NAMESPACE, 'get', 'arb', '-o', 'jsonpath={.items[*].metadata.name}'))
        .split(' ')
        .filter(Boolean);
      for (const name of names) await page.locator(`tr[data-name="${name}"] .phase-Succeeded`).waitFor();
      await page.getByLabel('Namespace').fill(OPERATOR_NAMESPACE);
      await page.getByRole('button', { name: 'Filter' }).click();
      await page.getByRole('alert').filter({ hasText: 'forbidden' }).waitFor();
    } finally {
      await browser.close();
    }
  });

  it('helm test runs a runbook in the watched namespace and passes', async () => {
    const output = await timed('helm test', () =>
      helm('test', RELEASE, '-n', OPERATOR_NAMESPACE, '--timeout=5m'),
    );
    expect(output).to.match(/TEST SUITE:\s+runbooks-agentrunbook-test[\s\S]*Phase:\s+Succeeded/);
    // The test's objects go once it passed.
    expect(
      await k('-n', NAMESPACE, 'get', 'agentrunbook', `${FULLNAME}-test`, '--ignore-not-found', '-o', 'name'),
    ).to.equal('');
  });

  it('a helm upgrade mid-run finishes the run with no duplicate Job', async () => {
    await applySlowRunbook('upgraded-mid-run');
    await timed('helm upgrade (rolling both replicas) mid-run', () =>
      helm(
        'upgrade',
        RELEASE,
        CHART,
        '-n',
        OPERATOR_NAMESPACE,
        '--reuse-values',
        '--set',
        'workers=3',
        '--wait',
        '--timeout=5m',
      ),
    );
    await timed('the run to Succeeded after the upgrade', () => waitAllSucceeded());
    expect(await jobStages('upgraded-mid-run')).to.deep.equal(['normalize', 'research']);
  });

  it('deleting the leader Pod mid-run finishes the run with no duplicate Job', async () => {
    await applySlowRunbook('leader-deleted');
    const leader = await leaderPod();
    expect(leader).to.match(new RegExp(`^${DEPLOYMENT}-`));
    await k('-n', OPERATOR_NAMESPACE, 'delete', 'pod', leader, '--wait=false');
    await timed('the run to Succeeded after the leader Pod was deleted', () => waitAllSucceeded());
    expect(await jobStages('leader-deleted')).to.deep.equal(['normalize', 'research']);
    expect(await leaderPod()).not.to.equal(leader);
  });

  it('logs nothing to warn about in either replica', async () => {
    const logs = await k(
      '-n',
      OPERATOR_NAMESPACE,
      'logs',
      '-l',
      `app.kubernetes.io/name=${OPERATOR_NAME}`,
      '--tail=-1',
    );
    expect(logs).to.contain('"message":"caches synced"');
    expect(logs).not.to.match(/"level":"(warn|error)"|Warning|deprecat/i);
  });

  it('helm uninstall leaves nothing behind but the kept CRD', async () => {
    await k('delete', 'namespace', NAMESPACE, '--wait=true', '--timeout=120s');
    const output = await timed('helm uninstall --wait', () =>
      helm('uninstall', RELEASE, '-n', OPERATOR_NAMESPACE, '--wait'),
    );
    expect(output).to.contain('kept due to the resource policy');
    // The garbage collector removes the Deployments' ReplicaSets and Pods after them: the
    // operator's and the console's, which carry different names.
    await timed('the operator and console Pods to go', () =>
      k('-n', OPERATOR_NAMESPACE, 'wait', '--for=delete', 'pod', '--all', '--timeout=120s'),
    );
    await expectOnlyTheCrdLeft(admin);
  });

  it('kubectl apply -f manifests/install.yaml gives a running operator that runs a runbook', async () => {
    const admin = (...args: string[]) => k(...args);
    await timed('kubectl apply install.yaml to a rolled-out Deployment', async () => {
      // The CRD that helm uninstall kept is the chart's: take its fields over.
      await admin(
        'apply',
        '--server-side',
        '--force-conflicts',
        '-f',
        join(repoRoot, 'manifests', 'install.yaml'),
      );
      if (apiServer) {
        await admin(
          '-n',
          OPERATOR_NAMESPACE,
          'set',
          'env',
          `deployment/${OPERATOR_NAME}`,
          `KUBERNETES_SERVICE_HOST=${apiServer.host}`,
          `KUBERNETES_SERVICE_PORT=${apiServer.port}`,
        );
      }
      await admin(
        '-n',
        OPERATOR_NAMESPACE,
        'rollout',
        'status',
        `deployment/${OPERATOR_NAME}`,
        '--timeout=180s',
      );
    });
    await admin('create', 'namespace', NAMESPACE);
    await admin('-n', NAMESPACE, 'wait', '--for=create', '--timeout=60s', 'serviceaccount/default');
    await admin(
      '-n',
      NAMESPACE,
      'apply',
      '-f',
      join(repoRoot, 'examples', 'pipeline-normalize-research.yaml'),
    );
    await timed('a runbook to Succeeded under the install.yaml operator', () => waitAllSucceeded());
    await timed('kubectl delete -f install.yaml', () =>
      admin('delete', '-f', join(repoRoot, 'manifests', 'install.yaml'), '--wait=true', '--timeout=180s'),
    );
  });
});
