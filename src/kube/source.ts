/** Informer sources backed by the API server: a list request and client-node's Watch. */
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import type { InformerSource, KubeObject, ListResult, WatchEventType } from './informer.js';
import type { KubeHttp } from './http.js';

export interface ResourcePath {
  /** e.g. /apis/batch/v1 or /api/v1 */
  prefix: string;
  plural: string;
  namespace?: string;
  labelSelector?: string;
}

export function collectionPath({ prefix, plural, namespace }: ResourcePath): string {
  return namespace ? `${prefix}/namespaces/${namespace}/${plural}` : `${prefix}/${plural}`;
}

export function kubeSource<T extends KubeObject>(
  http: KubeHttp,
  kc: KubeConfig,
  resource: ResourcePath,
): InformerSource<T> {
  const path = collectionPath(resource);
  const watcher = new Watch(kc);
  return {
    async list(): Promise<ListResult<T>> {
      const list = await http.request<{ items?: T[]; metadata?: { resourceVersion?: string } }>({
        method: 'GET',
        path,
        query: { labelSelector: resource.labelSelector },
      });
      return { items: list.items ?? [], resourceVersion: list.metadata?.resourceVersion ?? '' };
    },
    async watch(resourceVersion, timeoutSeconds, onEvent, onDone) {
      // client-node ends a watch that is quiet for 30 s by default; a quiet watch is normal (the
      // informer has its own silence watchdog), so allow the server's timeout and a margin.
      // The property is public in JavaScript but private in client-node's typings.
      (watcher as unknown as { requestTimeoutMs: number }).requestTimeoutMs = (timeoutSeconds + 30) * 1000;
      const controller = await watcher.watch(
        path,
        {
          resourceVersion,
          allowWatchBookmarks: true,
          timeoutSeconds,
          labelSelector: resource.labelSelector,
        },
        (type: string, object: T) => {
          onEvent(type as WatchEventType, object);
        },
        (error: unknown) => {
          onDone(error ?? undefined);
        },
      );
      return {
        abort: () => {
          controller.abort();
        },
      };
    },
  };
}
