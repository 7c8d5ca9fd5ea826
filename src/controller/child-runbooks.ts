/**
 * The controller's side of stages that run a runbook: observing a runbook's children (the
 * AgentRunbooks it controls, from the runbooks informer, indexed by owner), how deep a runbook is
 * nested (its chain of owners), the specs a child may copy, and the two writes: creating a child
 * (owned by its parent, so it goes when the parent goes) and cancelling one.
 */
import { GROUP, KIND, PLURAL, STORAGE_VERSION } from '../api/group.js';
import {
  LABEL_ATTEMPT,
  LABEL_EXECUTION,
  LABEL_MANAGED_BY,
  LABEL_PARENT,
  LABEL_STAGE,
  MANAGED_BY,
} from '../api/labels.js';
import { MAX_RUNBOOK_DEPTH } from '../api/v2/branching.js';
import type { SpecV2 } from '../api/v2/runbook.js';
import type { ChildObservation, ChildPlan } from '../engine/model/types.js';
import { createUnlessExists, isStatus, type KubeHttp } from '../kube/http.js';
import type { SharedInformer } from '../kube/informer.js';
import type { CachedRunbook } from '../kube/types.js';
import { controllerOwner } from './job-cache.js';
import { ownedBy, stageLabels } from './job-builder.js';

const CHILDREN_BY_OWNER = 'owner-uid';

const runbooksPath = (namespace: string) =>
  `/apis/${GROUP}/${STORAGE_VERSION}/namespaces/${namespace}/${PLURAL}`;

export class ChildRunbooks {
  constructor(private readonly runbooks: SharedInformer<CachedRunbook>) {
    runbooks.addIndex(CHILDREN_BY_OWNER, (runbook) => {
      const owner = controllerOwner(runbook.metadata, KIND);
      return owner ? [owner.uid] : [];
    });
  }

  /** The runbooks this one controls, as the engine reads them. */
  observe(uid: string): ChildObservation[] {
    return this.runbooks.byIndex(CHILDREN_BY_OWNER, uid).flatMap((child): ChildObservation[] => {
      const labels = child.metadata.labels ?? {};
      const stage = labels[LABEL_STAGE];
      const execution = labels[LABEL_EXECUTION];
      const attempt = Number(labels[LABEL_ATTEMPT]);
      if (!stage || !execution || !Number.isInteger(attempt)) return [];
      const status = child.status;
      const ready = status?.conditions?.find((condition) => condition.type === 'Ready');
      return [
        {
          name: child.metadata.name,
          stage,
          execution,
          attempt,
          ...(status?.phase ? { phase: status.phase } : {}),
          ...(ready ? { message: ready.message } : {}),
          ...(status?.usage ? { usage: status.usage } : {}),
          stages: (status?.stages ?? []).map(({ name, phase, outputs, outputRefs }) => ({
            name,
            phase,
            ...(outputs ? { outputs } : {}),
            ...(outputRefs ? { outputRefs } : {}),
          })),
        },
      ];
    });
  }

  /** How many runbooks own this one, counted up its owners (bounded: a loop of owners cannot hang it). */
  depth(runbook: CachedRunbook): number {
    let depth = 0;
    let current: CachedRunbook | undefined = runbook;
    while (current && depth <= MAX_RUNBOOK_DEPTH) {
      const owner = controllerOwner(current.metadata, KIND);
      if (!owner) break;
      depth += 1;
      current = this.runbooks.get(`${runbook.metadata.namespace}/${owner.name}`);
    }
    return depth;
  }

  /** The spec of a runbook of the namespace, for a stage's runbook.name. */
  spec(namespace: string, name: string): SpecV2 | undefined {
    return this.runbooks.get(`${namespace}/${name}`)?.spec;
  }
}

/** Creates a child runbook, owned by its parent; one that exists already (a restart) is left as it is. */
export async function createChild(http: KubeHttp, parent: CachedRunbook, plan: ChildPlan): Promise<void> {
  const { namespace } = parent.metadata;
  const { [LABEL_STAGE]: stage = '', ...item } = stageLabels(plan.stage);
  await createUnlessExists(http, runbooksPath(namespace), {
    apiVersion: `${GROUP}/${STORAGE_VERSION}`,
    kind: KIND,
    metadata: {
      name: plan.name,
      namespace,
      labels: {
        [LABEL_MANAGED_BY]: MANAGED_BY,
        [LABEL_PARENT]: parent.metadata.name.slice(0, 63),
        [LABEL_STAGE]: stage,
        ...item,
        [LABEL_EXECUTION]: plan.execution,
        [LABEL_ATTEMPT]: String(plan.attempt),
      },
      ownerReferences: [ownedBy(parent)],
    },
    spec: plan.spec,
  });
}

/** Cancels a child runbook (spec.status: Cancelled); one already gone needs nothing. */
export async function cancelChild(http: KubeHttp, namespace: string, name: string): Promise<void> {
  try {
    await http.send({
      method: 'PATCH',
      path: `${runbooksPath(namespace)}/${name}`,
      contentType: 'application/merge-patch+json',
      body: { spec: { status: 'Cancelled' } },
    });
  } catch (error) {
    if (!isStatus(error, 404)) throw error;
  }
}
