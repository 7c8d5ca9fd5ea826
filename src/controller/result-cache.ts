/**
 * The stored results (CachedResults) as the engine reads them, one namespace at a time: a
 * runbook's view holds its own namespace's results and nothing else. The informer keeps each
 * result without its larger outputs' data (a run that reuses them fetches them once).
 *
 * It also remembers, per namespace, the digest the newest Pod of each image reported (and, after
 * a restart, the digests stored results recorded), so a stage that names an image by tag is keyed
 * by what the tag last pulled.
 */
import type { ResultCacheView, StoredResult } from '../engine/model/types.js';
import { reportedDigest } from '../engine/stage/cache-key.js';
import type { SharedInformer } from '../kube/informer.js';
import type { CachedPod, CachedResultEntry } from '../kube/types.js';
import { AGENT_CONTAINER } from './job-builder.js';

const BY_KEY = 'namespace-key';
/** Most images whose digest is remembered per namespace: the oldest is forgotten first. */
const MAX_IMAGES_PER_NAMESPACE = 1024;

/** A stored result's time in ms; 0 for one that has none it can read. */
export const timeOf = (text: string | undefined) => Date.parse(text ?? '') || 0;

/** The informer's copy of a CachedResult: spec.data is left out, the digests of what it held stay. */
export function withoutData(result: CachedResultEntry): CachedResultEntry {
  // A broken object (no spec) is the informer's to refuse.
  const spec = result.spec as CachedResultEntry['spec'] | undefined;
  if (spec?.data === undefined) return result;
  const kept = { ...spec };
  delete kept.data;
  return { ...result, spec: kept };
}

export class ResultCache {
  /** namespace -> image -> the digest last reported for it, and when. */
  private readonly digests = new Map<string, Map<string, { digest: string; at: number }>>();

  constructor(
    readonly results: SharedInformer<CachedResultEntry>,
    pods: SharedInformer<CachedPod>,
  ) {
    results.addIndex(BY_KEY, (result) => [`${result.metadata.namespace}/${result.spec.key}`]);
    const fromResult = (result: CachedResultEntry) => {
      const { image, imageDigest, origin } = result.spec;
      if (imageDigest) this.remember(result.metadata.namespace, image, imageDigest, timeOf(origin.time));
    };
    results.on({ add: fromResult });
    const fromPod = (pod: CachedPod) => {
      const image = pod.spec?.containers?.find((container) => container.name === AGENT_CONTAINER)?.image;
      const status = pod.status?.containerStatuses?.find((container) => container.name === AGENT_CONTAINER);
      const digest = reportedDigest(status?.imageID);
      if (image && digest) this.remember(pod.metadata.namespace, image, digest, Date.now());
    };
    pods.on({ add: fromPod, update: fromPod });
  }

  private remember(namespace: string, image: string, digest: string, at: number): void {
    let images = this.digests.get(namespace);
    if (!images) {
      images = new Map();
      this.digests.set(namespace, images);
    }
    const known = images.get(image);
    if (known && known.at > at) return;
    images.delete(image);
    images.set(image, { digest, at });
    if (images.size > MAX_IMAGES_PER_NAMESPACE) {
      const oldest = images.keys().next().value;
      if (oldest !== undefined) images.delete(oldest);
    }
  }

  /** The newest result for the key in the namespace that has not expired at `now`. */
  lookup(namespace: string, key: string, now: number): StoredResult | undefined {
    let newest: CachedResultEntry | undefined;
    for (const result of this.results.byIndex(BY_KEY, `${namespace}/${key}`)) {
      if (timeOf(result.spec.expiresAt) <= now) continue;
      if (!newest || timeOf(result.spec.origin.time) > timeOf(newest.spec.origin.time)) newest = result;
    }
    return newest && { name: newest.metadata.name, spec: newest.spec };
  }

  /** What a runbook in `namespace` sees: its namespace's results only. */
  view(namespace: string, now: Date): ResultCacheView {
    return {
      lookup: (key) => this.lookup(namespace, key, now.getTime()),
      imageDigest: (image) => this.digests.get(namespace)?.get(image)?.digest,
    };
  }
}
