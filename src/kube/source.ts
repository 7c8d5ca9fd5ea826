/** Informer sources backed by the API server: paged lists and a watch stream. */
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

/**
 * Drops what the operator never reads before an object is cached: managedFields are often the
 * largest part of an object (controller-runtime's cache drops them too).
 */
function withoutManagedFields<T extends KubeObject>(object: T): T {
  const metadata = object.metadata as { managedFields?: unknown } | undefined;
  if (metadata?.managedFields !== undefined) delete metadata.managedFields;
  return object;
}

/**
 * A source of the objects at `resource`; `keep` trims each further before it is cached (as
 * client-go's SetTransform), e.g. to drop data the cache's readers fetch when they need it.
 */
export function kubeSource<T extends KubeObject>(
  http: KubeHttp,
  resource: ResourcePath,
  keep: (object: T) => T = (object) => object,
): InformerSource<T> {
  const path = collectionPath(resource);
  const trimmed = (object: T) => keep(withoutManagedFields(object));
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
      for (const item of page.items ?? []) items.push(trimmed(item));
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
    watch(resourceVersion, timeoutSeconds, onEvent, onDone) {
      return http.watch(
        path,
        { resourceVersion, allowWatchBookmarks: true, timeoutSeconds, labelSelector: resource.labelSelector },
        (event) => {
          onEvent(event.type as WatchEventType, trimmed(event.object as T));
        },
        onDone,
      );
    },
  };
}
