/** Informer sources backed by the API server: a list request and client-node's Watch. */
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import type { InformerSource, KubeObject, ListResult, WatchEventType } from './informer.js';
import { isStatus, type KubeHttp } from './http.js';

export interface ResourcePath {
  /** e.g. /apis/batch/v1 or /api/v1 */
  prefix: string;
  plural: string;
  namespace?: string;
  labelSelector?: string;
  /** Objects per list request (default 500, as client-go's pager). */
  pageSize?: number;
}

const LIST_PAGE_SIZE = 500;

interface PagedList<T> {
  items?: T[];
  metadata?: { resourceVersion?: string; continue?: string };
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
  /** Lists in pages, so neither the API server nor this process holds one huge response at once. */
  const listInPages = async (limit: number | undefined): Promise<ListResult<T>> => {
    const items: T[] = [];
    let next: string | undefined;
    let resourceVersion = '';
    do {
      const page = await http.request<PagedList<T>>({
        method: 'GET',
        path,
        query: { labelSelector: resource.labelSelector, limit, continue: next },
      });
      for (const item of page.items ?? []) items.push(item);
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
      next = page.metadata?.continue || undefined;
    } while (next);
    return { items, resourceVersion };
  };
  return {
    async list(): Promise<ListResult<T>> {
      try {
        return await listInPages(resource.pageSize ?? LIST_PAGE_SIZE);
      } catch (error) {
        // client-go's pager does the same: a continue token that expired mid-list means a full list.
        if (!isStatus(error, 410)) throw error;
        return listInPages(undefined);
      }
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
