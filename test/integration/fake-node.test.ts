import { expect } from 'chai';
import { BatchV1Api, CoreV1Api, type V1Job } from '@kubernetes/client-node';
import type { ControlPlane } from '../../hack/local-cluster/control-plane.js';
import { sharedControlPlane } from '../support/shared-control-plane.js';
import { FakeNode, type PodOutcome } from '../../hack/local-cluster/fake-node.js';
import { kubectl } from '../../hack/local-cluster/tools.js';
import { KubeHttp } from '../../src/kube/http.js';
import type { PodJson } from '../../src/kube/types.js';
import { eventually } from '../support/eventually.js';

function job(name: string): V1Job {
  return {
    metadata: { name },
    spec: {
      backoffLimit: 0,
      template: {
        metadata: { labels: { app: name } },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          containers: [{ name: 'agent', image: 'registry.invalid/agent:1' }],
        },
      },
    },
  };
}

describe('the fake node drives real Jobs through the Job controller', function () {
  this.timeout(90_000);
  let plane: ControlPlane;
  let node: FakeNode;
  let namespace: string;
  const outcomes = new Map<string, PodOutcome>();
  const k = (...args: string[]) => kubectl(plane.adminKubeconfigPath, args);

  before(async () => {
    plane = await sharedControlPlane();
    namespace = `node-${Date.now().toString(36)}`;
    expect((await k('create', 'namespace', namespace)).code).to.equal(0);
    // Pods need the namespace's default ServiceAccount, which the serviceaccount controller creates.
    const waited = await k(
      'wait',
      '--for=create',
      '--timeout=30s',
      '-n',
      namespace,
      'serviceaccount/default',
    );
    expect(waited.code, waited.stderr).to.equal(0);
    node = new FakeNode(plane.adminConfig(), {
      namespace,
      scenario: (pod) => outcomes.get(pod.metadata?.labels?.app ?? '') ?? { phase: 'Succeeded' },
    });
    await node.start();
  });

  after(async () => {
    await node.stop();
    expect(node.errors).to.deep.equal([]);
  });

  async function runJob(name: string): Promise<void> {
    await plane
      .adminConfig()
      .makeApiClient(BatchV1Api)
      .createNamespacedJob({ namespace, body: job(name) });
  }

  async function terminationMessage(name: string): Promise<string | undefined> {
    const pods = await plane
      .adminConfig()
      .makeApiClient(CoreV1Api)
      .listNamespacedPod({ namespace, labelSelector: `app=${name}` });
    expect(pods.items).to.have.length(1);
    return pods.items[0]?.status?.containerStatuses?.[0]?.state?.terminated?.message;
  }

  it('completes a Job whose Pod succeeds, keeping the termination message', async () => {
    const message = JSON.stringify({
      outputs: { normalized_idea: { summary: 'tasks' } },
      usage: { tokens: 12 },
    });
    outcomes.set('ok', { phase: 'Succeeded', message });
    await runJob('ok');
    const waited = await k('wait', '--for=condition=Complete', '--timeout=60s', '-n', namespace, 'job/ok');
    expect(waited.code, waited.stderr).to.equal(0);
    expect(await terminationMessage('ok')).to.equal(message);
  });

  it('fails a Job whose Pod fails, with the exit code and message the scenario chose', async () => {
    outcomes.set('bad', { phase: 'Failed', exitCode: 3, message: '{"error":{"class":"RATE_LIMIT"}}' });
    await runJob('bad');
    const waited = await k('wait', '--for=condition=Failed', '--timeout=60s', '-n', namespace, 'job/bad');
    expect(waited.code, waited.stderr).to.equal(0);
    expect(await terminationMessage('bad')).to.equal('{"error":{"class":"RATE_LIMIT"}}');
  });

  it('holds a Pod Running until the test finishes it', async () => {
    outcomes.set('held', 'hold');
    await runJob('held');
    await node.waitFor(
      () => node.heldPods().some((pod) => pod.startsWith(`${namespace}/held-`)),
      30_000,
      'the held pod',
    );
    const active = await k('get', 'job', 'held', '-n', namespace, '-o', 'jsonpath={.status.active}');
    expect(active.stdout).to.equal('1');
    const held = node.heldPods().find((pod) => pod.startsWith(`${namespace}/held-`));
    await node.finish(held ?? '', { phase: 'Succeeded', message: '{}' });
    const waited = await k('wait', '--for=condition=Complete', '--timeout=60s', '-n', namespace, 'job/held');
    expect(waited.code, waited.stderr).to.equal(0);
  });

  it("serves a Pod's log from the moment a watcher sees it Running, as a kubelet does", async () => {
    outcomes.set('watched', 'hold');
    const http = new KubeHttp(plane.adminConfig());
    let pod = '';
    let logAnswer: Promise<number> | undefined;
    const watch = await http.watch(
      `/api/v1/namespaces/${namespace}/pods`,
      { labelSelector: 'app=watched' },
      (event) => {
        const seen = (event as { object?: PodJson }).object;
        if (logAnswer || seen?.status?.phase !== 'Running') return;
        pod = seen.metadata.name ?? '';
        // What the console does: ask for the log of a Pod the moment it is seen Running.
        logAnswer = http
          .stream(`/api/v1/namespaces/${namespace}/pods/${pod}/log`, { container: 'agent' })
          .then(
            (response) => {
              response.destroy();
              return response.statusCode ?? 0;
            },
            (error: unknown) => (error as { statusCode?: number }).statusCode ?? -1,
          );
      },
      () => undefined,
    );
    const answered = () =>
      eventually(() => logAnswer ?? Promise.reject(new Error('the Pod is not Running yet')));
    // The API server's answer to the node's Running status can reach the node after a watcher saw
    // the Pod Running: the node's answer is held until the watcher's log request was answered.
    const core = (node as unknown as { core: CoreV1Api }).core;
    const replace = core.replaceNamespacedPodStatus.bind(core);
    core.replaceNamespacedPodStatus = async (param) => {
      const stored = await replace(param);
      if (param.body.metadata?.labels?.app === 'watched' && param.body.status?.phase === 'Running')
        await answered();
      return stored;
    };
    try {
      await runJob('watched');
      expect(await answered(), `the log of ${pod}`).to.equal(200);
      await node.waitFor(() => node.heldPods().includes(`${namespace}/${pod}`), 30_000, 'the held pod');
      await node.finish(`${namespace}/${pod}`, { phase: 'Succeeded', message: '{}' });
    } finally {
      core.replaceNamespacedPodStatus = replace;
      watch.abort();
      http.close();
    }
  });

  it('lets the garbage collector delete the Pods of a deleted Job', async () => {
    const deleted = await k('delete', 'job', 'ok', '-n', namespace, '--cascade=background');
    expect(deleted.code, deleted.stderr).to.equal(0);
    const gone = await k('wait', '--for=delete', '--timeout=60s', '-n', namespace, 'pod', '-l', 'app=ok');
    expect(gone.code, gone.stderr).to.equal(0);
  });
});
