/**
 * The benchmark's node: binds each agent Pod and ends it Succeeded at once, with a report, in two
 * requests over one kept-alive connection pool, so the bed measures the operator and
 * kube-controller-manager rather than a slow kubelet.
 */
import type { KubeHttp } from '../src/kube/http.js';
import { Informer } from '../src/kube/informer.js';
import { kubeSource } from '../src/kube/source.js';
import type { PodJson } from '../src/kube/types.js';

const REPORT = JSON.stringify({ outputs: {}, usage: { tokens: 10, costUSD: '0.001' } });

export class FastNode {
  readonly pods: Informer<PodJson>;
  private readonly handled = new Set<string>();
  errors = 0;

  constructor(
    private readonly http: KubeHttp,
    private readonly nodeName = 'bench-node',
  ) {
    this.pods = new Informer('bench-pods', kubeSource(http, { prefix: '/api/v1', plural: 'pods' }));
    const advance = (pod: PodJson) => {
      void this.advance(pod).catch(() => {
        this.errors += 1;
      });
    };
    this.pods.on({ add: advance, update: advance });
  }

  start(): Promise<void> {
    return this.pods.start();
  }

  stop(): void {
    this.pods.stop();
  }

  private async advance(pod: PodJson): Promise<void> {
    const { name = '', namespace = '' } = pod.metadata;
    const key = `${namespace}/${name}`;
    const base = `/api/v1/namespaces/${namespace}/pods/${name}`;
    if (pod.metadata.deletionTimestamp) {
      await this.http.request({ method: 'DELETE', path: base, body: { gracePeriodSeconds: 0 } });
      return;
    }
    if (this.handled.has(key) || pod.status?.phase === 'Succeeded') return;
    this.handled.add(key);
    await this.http.request({
      method: 'POST',
      path: `${base}/binding`,
      body: {
        metadata: { name, namespace },
        target: { apiVersion: 'v1', kind: 'Node', name: this.nodeName },
      },
    });
    const now = new Date().toISOString();
    await this.http.request({
      method: 'PATCH',
      path: `${base}/status`,
      contentType: 'application/merge-patch+json',
      body: {
        status: {
          phase: 'Succeeded',
          startTime: now,
          conditions: [{ type: 'Ready', status: 'False', reason: 'PodCompleted', lastTransitionTime: now }],
          containerStatuses: [
            {
              name: 'agent',
              image: 'bench',
              imageID: '',
              ready: false,
              restartCount: 0,
              state: {
                terminated: {
                  exitCode: 0,
                  reason: 'Completed',
                  message: REPORT,
                  startedAt: now,
                  finishedAt: now,
                },
              },
            },
          ],
        },
      },
    });
  }
}
