/**
 * Keeps each spec of a runbook as a ControllerRevision it owns (as Deployments and StatefulSets
 * keep theirs), labelled with the semver bump the change implies, at most
 * spec.revisionHistoryLimit of them. It asks the API server only when the generation changed.
 */
import {
  ANNOTATION_CHANGES,
  ANNOTATION_VERSION,
  LABEL_BUMP,
  LABEL_MANAGED_BY,
  LABEL_REVISION_HASH,
  LABEL_RUNBOOK,
  LABEL_RUNBOOK_UID,
  MANAGED_BY,
} from '../api/labels.js';
import type { SpecV2 } from '../api/v2/runbook.js';
import { isObject } from '../api/json.js';
import { labelValue } from '../engine/model/naming.js';
import { planRevision, revisionSpec, type StoredRevision } from '../engine/versions/revisions.js';
import type { Bump } from '../engine/versions/spec-changes.js';
import { isStatus, type KubeHttp } from '../kube/http.js';
import type { CachedRunbook } from '../kube/types.js';
import { ownedBy } from './job-builder.js';

import type { RevisionStatus } from '../engine/model/types.js';

/** A ControllerRevision of a runbook, as `agentrunbook history` shows it. */
export interface RunbookRevision extends StoredRevision {
  version: string;
  bump: Bump;
  changes: string[];
  created: string;
}

const collection = (namespace: string) => `/apis/apps/v1/namespaces/${namespace}/controllerrevisions`;

const BUMPS: readonly string[] = ['major', 'minor', 'patch', 'none'];

/** A listed object as a revision of the runbook `uid`, or undefined when it is not one. */
function parseRevision(object: unknown, uid: string): RunbookRevision | undefined {
  if (!isObject(object) || !isObject(object.metadata) || !isObject(object.data)) return undefined;
  const { metadata } = object;
  const labels = isObject(metadata.labels) ? metadata.labels : {};
  const annotations = isObject(metadata.annotations) ? metadata.annotations : {};
  const text = (value: unknown, otherwise: string) => (typeof value === 'string' ? value : otherwise);
  const owners = Array.isArray(metadata.ownerReferences) ? metadata.ownerReferences : [];
  if (!owners.some((owner) => isObject(owner) && owner.uid === uid)) return undefined;
  if (typeof metadata.name !== 'string' || typeof object.revision !== 'number') return undefined;
  if (typeof labels[LABEL_REVISION_HASH] !== 'string' || !isObject(object.data.spec)) return undefined;
  let changes: string[] = [];
  try {
    const parsed = JSON.parse(text(annotations[ANNOTATION_CHANGES], '[]')) as unknown;
    if (Array.isArray(parsed)) changes = parsed.filter((item): item is string => typeof item === 'string');
  } catch {
    changes = [];
  }
  const bump = text(labels[LABEL_BUMP], 'none');
  return {
    name: metadata.name,
    number: object.revision,
    hash: labels[LABEL_REVISION_HASH],
    spec: object.data.spec as unknown as SpecV2,
    version: text(annotations[ANNOTATION_VERSION], ''),
    bump: (BUMPS.includes(bump) ? bump : 'none') as Bump,
    changes,
    created: typeof metadata.creationTimestamp === 'string' ? metadata.creationTimestamp : '',
  };
}

/** The revisions of a runbook, oldest first. */
export async function listRevisions(
  http: KubeHttp,
  namespace: string,
  uid: string,
): Promise<RunbookRevision[]> {
  const list = await http.request<{ items?: unknown[] }>({
    method: 'GET',
    path: collection(namespace),
    query: { labelSelector: `${LABEL_RUNBOOK_UID}=${uid}` },
  });
  return (list.items ?? [])
    .map((item) => parseRevision(item, uid))
    .filter((revision): revision is RunbookRevision => revision !== undefined)
    .sort((a, b) => a.number - b.number);
}

export class SpecRevisions {
  constructor(private readonly http: KubeHttp) {}

  /** Records the runbook's current spec as a revision (a ControllerRevision) when it is new, and returns it. */
  async record(runbook: CachedRunbook): Promise<RevisionStatus> {
    const generation = runbook.metadata.generation;
    const stored = runbook.status?.revision;
    if (stored?.observedGeneration === generation) return stored;
    const namespace = runbook.metadata.namespace;
    const uid = runbook.metadata.uid;
    const name = runbook.metadata.name;
    // A new runbook has no revisions yet, so listing them would be a request for nothing; should an
    // earlier reconcile have made its first one and lost the status write, the create meets it (409).
    const existing =
      stored === undefined && generation === 1 ? [] : await listRevisions(this.http, namespace, uid);
    const plan = planRevision(name, runbook.spec, existing);
    const { write, current } = plan;
    if (write) {
      const create = () =>
        this.http.send({
          method: 'POST',
          path: collection(namespace),
          body: {
            apiVersion: 'apps/v1',
            kind: 'ControllerRevision',
            metadata: {
              name: current.name,
              namespace,
              labels: {
                [LABEL_BUMP]: write.bump,
                [LABEL_MANAGED_BY]: MANAGED_BY,
                [LABEL_RUNBOOK]: labelValue(name),
                [LABEL_RUNBOOK_UID]: uid,
                [LABEL_REVISION_HASH]: current.hash,
              },
              annotations: {
                [ANNOTATION_VERSION]: write.version,
                [ANNOTATION_CHANGES]: JSON.stringify(write.changes),
              },
              ownerReferences: [ownedBy(runbook)],
            },
            data: { spec: revisionSpec(runbook.spec) },
            revision: current.number,
          },
        });
      // An old revision taken back (a rollback) comes back under the next number. It is made
      // again rather than patched: a patch re-encodes its data, which the API server then refuses
      // as changed whenever Go and JavaScript write the same JSON differently (>, &, <).
      const recreate = async () => {
        await this.http
          .request({ method: 'DELETE', path: `${collection(namespace)}/${current.name}` })
          .catch((error: unknown) => {
            if (!isStatus(error, 404)) throw error;
          });
        await create();
      };
      if (write.mode === 'renumber') await recreate();
      else {
        try {
          await create();
        } catch (error) {
          // Written by an earlier reconcile whose status write was lost: number it now.
          if (!isStatus(error, 409)) throw error;
          await recreate();
        }
      }
    }
    await Promise.all(
      plan.prune.map((revision) =>
        this.http
          .request({ method: 'DELETE', path: `${collection(namespace)}/${revision}` })
          .catch((error: unknown) => {
            if (!isStatus(error, 404)) throw error;
          }),
      ),
    );
    return { ...current, observedGeneration: generation };
  }
}
