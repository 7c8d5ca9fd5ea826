/**
 * Plays the kubelet for integration tests: there is no real node, so this helper binds pending
 * Pods to a fake Node, marks them Running, then ends them Succeeded or Failed with the
 * termination message and log the test's scenario chooses, and serves those logs to the API
 * server's pods/log requests (pod-log-server.ts). The scenario gets the files a kubelet would
 * mount (pod-volumes.ts). The real Job controller does the rest.
 */
import { CoreV1Api, Watch, ApiException, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { PodLogServer } from './pod-log-server.js';
import { mounted, type Mounted } from './pod-volumes.js';

/** How a Pod ends. */
export type PodResult =
  | { phase: 'Succeeded'; message?: string; logs?: string }
  | { phase: 'Failed'; message?: string; exitCode?: number; reason?: string; logs?: string };

/** A result, or 'hold': keep the Pod Running until finish() is called. */
export type PodOutcome = PodResult | 'hold';

/**
 * Decides how each Pod ends, given what a kubelet would hand its container (environment and
 * files); may take its time (the demo's node runs the agent process here).
 */
export type Scenario = (pod: V1Pod, mounted: Mounted) => PodOutcome | Promise<PodOutcome>;

export interface FakeNodeOptions {
  /** The Node's name; envtest-node-<namespace> by default, so suites sharing a plane do not share a node. */
  nodeName?: string;
  /** Only Pods of this namespace; all namespaces when absent. */
  namespace?: string;
  scenario: Scenario;
}

const RESTART_DELAY_MS = 200;

function key(pod: V1Pod): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

function isConflictOrGone(error: unknown): boolean {
  return error instanceof ApiException && (error.code === 409 || error.code === 404);
}

export class FakeNode {
  readonly nodeName: string;
  private readonly core: CoreV1Api;
  private readonly watch: Watch;
  private abort: AbortController | undefined;
  private stopped = false;
  /** One chain of work per Pod, so the steps of one Pod never interleave. */
  private readonly chains = new Map<string, Promise<void>>();
  private readonly held = new Map<string, V1Pod>();
  private readonly listeners = new Set<() => void>();
  readonly errors: unknown[] = [];
  /** Most Pods that were Running at the same time. */
  maxRunning = 0;
  private runningNow = new Set<string>();
  private readonly logServer = new PodLogServer();

  constructor(
    kc: KubeConfig,
    private readonly options: FakeNodeOptions,
  ) {
    this.nodeName =
      options.nodeName ?? (options.namespace ? `envtest-node-${options.namespace}` : 'envtest-node');
    this.core = kc.makeApiClient(CoreV1Api);
    this.watch = new Watch(kc);
  }

  async start(): Promise<void> {
    const port = await this.logServer.start();
    try {
      await this.core.createNode({
        body: { metadata: { name: this.nodeName, labels: { 'i2s.studio/fake-node': 'true' } } },
      });
    } catch (error) {
      if (!(error instanceof ApiException && error.code === 409)) throw error;
    }
    // Where the API server finds this node's kubelet for pods/log.
    const node = await this.core.readNode({ name: this.nodeName });
    node.status = Object.assign(node.status ?? {}, {
      addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
      daemonEndpoints: { kubeletEndpoint: { Port: port } },
    });
    await this.core.replaceNodeStatus({ name: this.nodeName, body: node });
    await this.listAndWatch();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort?.abort();
    await Promise.all([...this.chains.values()]);
    await this.logServer.stop();
  }

  /** Pods held Running by a 'hold' outcome, by namespace/name. */
  heldPods(): string[] {
    return [...this.held.keys()];
  }

  /** Log requests that follow a container still running (kubectl logs -f). */
  followedLogs(): number {
    return this.logServer.following();
  }

  /** A held Pod's container writes `text` to its log (the agent container when none is named). */
  writeLog(podKey: string, text: string, container?: string): void {
    const pod = this.held.get(podKey);
    if (!pod) throw new Error(`pod ${podKey} is not held by the fake node`);
    const name = container ?? pod.spec?.containers[0]?.name ?? '';
    this.logServer.write(pod.metadata?.namespace ?? '', pod.metadata?.name ?? '', name, text);
  }

  /** Ends a held Pod with the given outcome. */
  async finish(podKey: string, outcome: PodResult): Promise<void> {
    const pod = this.held.get(podKey);
    if (!pod) throw new Error(`pod ${podKey} is not held by the fake node`);
    this.held.delete(podKey);
    await this.enqueue(pod, () => this.terminate(pod, outcome));
  }

  /** Resolves once `predicate` holds, re-checking after every Pod transition; rejects at the deadline. */
  async waitFor(predicate: () => boolean, timeoutMs = 30_000, what = 'condition'): Promise<void> {
    if (predicate()) return;
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (predicate()) {
          clearTimeout(timer);
          this.listeners.delete(check);
          resolve();
        }
      };
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        reject(new Error(`fake node: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.listeners.add(check);
    });
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  private async listAndWatch(): Promise<void> {
    const ns = this.options.namespace;
    const list = ns
      ? await this.core.listNamespacedPod({ namespace: ns })
      : await this.core.listPodForAllNamespaces();
    for (const pod of list.items) this.observe(pod);
    const path = ns ? `/api/v1/namespaces/${ns}/pods` : '/api/v1/pods';
    this.abort = await this.watch.watch(
      path,
      { resourceVersion: list.metadata?.resourceVersion, allowWatchBookmarks: true },
      (type, pod: V1Pod) => {
        if (type === 'ADDED' || type === 'MODIFIED') this.observe(pod);
      },
      () => {
        if (this.stopped) return;
        // The watch ended (timeout, error, 410 Gone): list again and resume.
        setTimeout(() => {
          if (!this.stopped) this.listAndWatch().catch((error: unknown) => this.errors.push(error));
        }, RESTART_DELAY_MS);
      },
    );
  }

  private observe(pod: V1Pod): void {
    if (this.stopped) return;
    void this.enqueue(pod, () => this.advance(pod));
  }

  private enqueue(pod: V1Pod, step: () => Promise<void>): Promise<void> {
    const podKey = key(pod);
    const next = (this.chains.get(podKey) ?? Promise.resolve())
      .then(step)
      .catch((error: unknown) => {
        if (!isConflictOrGone(error)) this.errors.push(error);
      })
      .finally(() => {
        this.notify();
      });
    this.chains.set(podKey, next);
    return next;
  }

  private async advance(observed: V1Pod): Promise<void> {
    const name = observed.metadata?.name ?? '';
    const namespace = observed.metadata?.namespace ?? '';
    const pod = await this.core.readNamespacedPod({ name, namespace });
    if (pod.spec?.nodeName && pod.spec.nodeName !== this.nodeName) return;
    if (pod.metadata?.deletionTimestamp) {
      // The kubelet would stop the containers and confirm the deletion.
      this.runningNow.delete(key(pod));
      this.held.delete(key(pod));
      this.logServer.forget(namespace, name);
      await this.core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 });
      return;
    }
    const phase = pod.status?.phase ?? 'Pending';
    if (phase === 'Succeeded' || phase === 'Failed' || this.held.has(key(pod))) return;
    if (!pod.spec?.nodeName) {
      await this.core.createNamespacedPodBinding({
        name,
        namespace,
        body: {
          metadata: { name, namespace },
          target: { apiVersion: 'v1', kind: 'Node', name: this.nodeName },
        },
      });
      return; // the binding's own event brings the Pod back here
    }
    if (phase === 'Pending') {
      await this.markRunning(pod);
      return;
    }
    const outcome = await this.options.scenario(pod, await mounted(this.core, pod));
    if (outcome === 'hold') {
      this.held.set(key(pod), pod);
      return;
    }
    await this.terminate(pod, outcome);
  }

  private async markRunning(pod: V1Pod): Promise<void> {
    const now = new Date();
    pod.status = Object.assign(pod.status ?? {}, {
      phase: 'Running',
      startTime: now,
      conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }],
      containerStatuses: (pod.spec?.containers ?? []).map((container) => ({
        name: container.name,
        image: container.image ?? '',
        imageID: '',
        ready: true,
        started: true,
        restartCount: 0,
        state: { running: { startedAt: now } },
      })),
    });
    // The containers' logs exist before the Pod is seen Running, as a kubelet's do: a client that
    // asks for the log of a Pod it saw Running (the console) must not find none.
    for (const container of pod.spec?.containers ?? [])
      this.logServer.started(pod.metadata?.namespace ?? '', pod.metadata?.name ?? '', container.name);
    await this.core.replaceNamespacedPodStatus({
      name: pod.metadata?.name ?? '',
      namespace: pod.metadata?.namespace ?? '',
      body: pod,
    });
    this.runningNow.add(key(pod));
    this.maxRunning = Math.max(this.maxRunning, this.runningNow.size);
  }

  private async terminate(observed: V1Pod, outcome: PodResult): Promise<void> {
    const name = observed.metadata?.name ?? '';
    const namespace = observed.metadata?.namespace ?? '';
    const pod = await this.core.readNamespacedPod({ name, namespace });
    const now = new Date();
    const failed = outcome.phase === 'Failed';
    const exitCode = failed ? (outcome.exitCode ?? 1) : 0;
    pod.status = Object.assign(pod.status ?? {}, {
      phase: outcome.phase,
      conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: now, reason: 'PodCompleted' }],
      containerStatuses: (pod.spec?.containers ?? []).map((container, index) => {
        const startedAt = pod.status?.containerStatuses?.[index]?.state?.running?.startedAt ?? now;
        return {
          name: container.name,
          image: container.image ?? '',
          imageID: '',
          ready: false,
          started: false,
          restartCount: 0,
          state: {
            terminated: {
              exitCode,
              reason: failed ? (outcome.reason ?? 'Error') : 'Completed',
              ...(outcome.message === undefined ? {} : { message: outcome.message }),
              startedAt,
              finishedAt: now,
            },
          },
        };
      }),
    });
    await this.core.replaceNamespacedPodStatus({ name, namespace, body: pod });
    for (const container of pod.spec?.containers ?? [])
      this.logServer.ended(namespace, name, container.name, outcome.logs ?? '');
    this.runningNow.delete(key(pod));
  }
}
