/** Informer sources for unit tests: a list of the given objects, and a watch the test drives. */
import type { InformerSource, WatchEventType } from '../../src/kube/informer.js';

export function sourceOf<T>(items: T[]) {
  const watch: { emit?: (type: WatchEventType, object: T) => void } = {};
  const source: InformerSource<T> = {
    list: () => Promise.resolve({ items, resourceVersion: '1' }),
    watch: (_rv, _timeout, onEvent) => {
      watch.emit = onEvent;
      return Promise.resolve({ abort: () => undefined });
    },
  };
  return { source, watch };
}
