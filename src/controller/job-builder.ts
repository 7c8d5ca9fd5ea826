/** Turns the engine's JobPlan into a batch/v1 Job owned by its runbook. */
import { FILES, FILES_DIR, TERMINATION_MESSAGE_PATH } from '../api/agent-contract.js';
import { GROUP, KIND, STORAGE_VERSION } from '../api/group.js';
import {
  ANNOTATION_BUDGET,
  ANNOTATION_INPUTS,
  ANNOTATION_PARAMETERS,
  LABEL_AGENT,
  LABEL_ATTEMPT,
  LABEL_EXECUTION,
  LABEL_GENERATION,
  LABEL_MANAGED_BY,
  LABEL_RUNBOOK,
  LABEL_STAGE,
  MANAGED_BY,
} from '../api/labels.js';
import { labelValue } from '../engine/naming.js';
import type { JobPlan } from '../engine/types.js';
import type { AgentRunbookJson, JobJson } from '../kube/types.js';

export const AGENT_CONTAINER = 'agent';
/** The "nonroot" user of distroless images. */
const NON_ROOT_UID = 65532;

export function jobLabels(runbook: AgentRunbookJson, plan: JobPlan): Record<string, string> {
  return {
    [LABEL_MANAGED_BY]: MANAGED_BY,
    [LABEL_RUNBOOK]: labelValue(runbook.metadata.name ?? ''),
    [LABEL_STAGE]: labelValue(plan.stage),
    [LABEL_AGENT]: labelValue(plan.agent),
    [LABEL_GENERATION]: String(plan.generation),
    [LABEL_EXECUTION]: plan.execution,
    [LABEL_ATTEMPT]: String(plan.attempt),
  };
}

/** The owner reference that makes the runbook's deletion delete the object too. */
export function ownedBy(runbook: AgentRunbookJson) {
  return {
    apiVersion: `${GROUP}/${STORAGE_VERSION}`,
    kind: KIND,
    name: runbook.metadata.name ?? '',
    uid: runbook.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

const FILES_VOLUME = 'agentrunbook';

/**
 * The agent's files: its inputs, parameters and budget through the downward API from the Pod's
 * annotations (no object to create or clean up, and there as soon as the Pod is), and the
 * upstream outputs it is passed from their ConfigMaps. A ConfigMap deleted by hand leaves its file
 * missing (optional), which the SDK reports, rather than a Pod that never starts.
 */
function filesVolume(plan: JobPlan) {
  const annotated: [string, string][] = [
    [FILES.inputs, ANNOTATION_INPUTS],
    [FILES.parameters, ANNOTATION_PARAMETERS],
    [FILES.budget, ANNOTATION_BUDGET],
  ];
  return {
    name: FILES_VOLUME,
    projected: {
      sources: [
        {
          downwardAPI: {
            items: annotated.map(([path, annotation]) => ({
              path,
              fieldRef: { fieldPath: `metadata.annotations['${annotation}']` },
            })),
          },
        },
        ...plan.mounts.map((file) => ({
          configMap: { name: file.configMap, optional: true, items: [{ key: file.key, path: file.path }] },
        })),
      ],
    },
  };
}

export function buildJob(runbook: AgentRunbookJson, plan: JobPlan): JobJson {
  const labels = jobLabels(runbook, plan);
  const annotations = {
    [ANNOTATION_INPUTS]: plan.files.inputs,
    [ANNOTATION_PARAMETERS]: plan.files.parameters,
    [ANNOTATION_BUDGET]: plan.files.budget,
  };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: plan.name,
      namespace: runbook.metadata.namespace ?? '',
      labels,
      ownerReferences: [ownedBy(runbook)],
    },
    spec: {
      // The operator owns retries: one Pod per Job, a new Job per attempt.
      backoffLimit: 0,
      ...(plan.activeDeadlineSeconds === undefined
        ? {}
        : { activeDeadlineSeconds: plan.activeDeadlineSeconds }),
      template: {
        metadata: { labels, annotations },
        spec: {
          restartPolicy: 'Never',
          volumes: [filesVolume(plan)],
          automountServiceAccountToken: plan.automountServiceAccountToken,
          ...(plan.serviceAccountName ? { serviceAccountName: plan.serviceAccountName } : {}),
          securityContext: {
            runAsNonRoot: true,
            runAsUser: NON_ROOT_UID,
            runAsGroup: NON_ROOT_UID,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [
            {
              name: AGENT_CONTAINER,
              image: plan.image,
              ...(plan.command ? { command: plan.command } : {}),
              ...(plan.args ? { args: plan.args } : {}),
              ...(plan.resources ? { resources: plan.resources } : {}),
              env: [
                ...Object.entries(plan.env).map(([name, value]) => ({ name, value })),
                ...plan.secretEnv.map(({ name, secret, key }) => ({
                  name,
                  valueFrom: { secretKeyRef: { name: secret, key } },
                })),
              ],
              volumeMounts: [{ name: FILES_VOLUME, mountPath: FILES_DIR, readOnly: true }],
              terminationMessagePath: TERMINATION_MESSAGE_PATH,
              terminationMessagePolicy: 'File',
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] },
              },
            },
          ],
        },
      },
    },
  };
}
