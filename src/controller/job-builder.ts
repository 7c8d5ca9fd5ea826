/** Turns the engine's JobPlan into a batch/v1 Job owned by its runbook. */
import { FILES, FILES_DIR, TERMINATION_MESSAGE_PATH } from '../api/agent-contract.js';
import { GROUP, KIND, STORAGE_VERSION } from '../api/group.js';
import {
  ANNOTATION_AGENT_KEY,
  ANNOTATION_BUDGET,
  ANNOTATION_GRANT,
  ANNOTATION_INPUTS,
  ANNOTATION_PARAMETERS,
  LABEL_AGENT,
  LABEL_COLOCATE,
  LABEL_ATTEMPT,
  LABEL_EXECUTION,
  LABEL_GENERATION,
  LABEL_MANAGED_BY,
  LABEL_RUNBOOK,
  LABEL_STAGE,
  LABEL_ITEM,
  MANAGED_BY,
} from '../api/labels.js';
import { labelValue } from '../engine/model/naming.js';
import type { JobPlan } from '../engine/model/types.js';
import { RESERVED_VOLUMES, WORKSPACE_VOLUME_PREFIX, type PodTemplate } from '../api/pod-template.js';
import { HOSTNAME_LABEL } from '../engine/stage/workspaces.js';
import { parseItemName } from '../engine/spec/for-each.js';
import type { CachedRunbook, JobJson } from '../kube/types.js';

export const AGENT_CONTAINER = 'agent';
/** The "nonroot" user of distroless images. */
const NON_ROOT_UID = 65532;

/** A stage's label; an item (<stage>[<index>]) as its stage and its index, which labels can hold. */
export function stageLabels(stage: string): Record<string, string> {
  const item = parseItemName(stage);
  return item
    ? { [LABEL_STAGE]: labelValue(item.stage), [LABEL_ITEM]: String(item.index) }
    : { [LABEL_STAGE]: labelValue(stage) };
}

export function jobLabels(runbook: CachedRunbook, plan: JobPlan): Record<string, string> {
  return {
    [LABEL_MANAGED_BY]: MANAGED_BY,
    [LABEL_RUNBOOK]: labelValue(runbook.metadata.name),
    ...stageLabels(plan.stage),
    [LABEL_AGENT]: labelValue(plan.agent),
    [LABEL_GENERATION]: String(plan.generation),
    [LABEL_EXECUTION]: plan.execution,
    [LABEL_ATTEMPT]: String(plan.attempt),
  };
}

/** The owner reference that makes the runbook's deletion delete the object too. */
export function ownedBy(runbook: CachedRunbook) {
  return {
    apiVersion: `${GROUP}/${STORAGE_VERSION}`,
    kind: KIND,
    name: runbook.metadata.name,
    uid: runbook.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** The operator's own volumes; an agent's Pod template may not use these names (reserved in pod-template.ts). */
const [FILES_VOLUME, SCRATCH_TMP, SCRATCH_HOME] = RESERVED_VOLUMES;

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

/** Writable scratch for a read-only root filesystem: /tmp and HOME, each a bounded emptyDir. */
function scratchVolumes(plan: JobPlan) {
  return {
    volumes: [
      { name: SCRATCH_TMP, emptyDir: { sizeLimit: plan.scratch.tmpSizeLimit } },
      { name: SCRATCH_HOME, emptyDir: { sizeLimit: plan.scratch.homeSizeLimit } },
    ],
    mounts: [
      { name: SCRATCH_TMP, mountPath: '/tmp' },
      { name: SCRATCH_HOME, mountPath: plan.scratch.home },
    ],
  };
}

/** The runbook's workspaces the stage mounts, as volumes workspace-<n>. */
function workspaceVolumes(plan: JobPlan) {
  const workspaces = plan.workspaces ?? [];
  const name = (index: number) => `${WORKSPACE_VOLUME_PREFIX}${index}`;
  return {
    volumes: workspaces.map((workspace, index) => ({
      name: name(index),
      ...(workspace.claim
        ? { persistentVolumeClaim: { claimName: workspace.claim.name } }
        : { emptyDir: workspace.emptyDir ?? {} }),
    })),
    mounts: workspaces.map((workspace, index) => ({
      name: name(index),
      mountPath: workspace.mountPath,
      ...(workspace.readOnly ? { readOnly: true } : {}),
    })),
    claims: workspaces.some((workspace) => workspace.claim),
  };
}

/**
 * Keeps the Pod with the run's others that share a ReadWriteOnce workspace: pod affinity to their
 * group (the first of them lands anywhere: it matches its own term), and their node once known.
 */
function colocated(plan: JobPlan, template: PodTemplate | undefined) {
  const { colocation } = plan;
  const nodeSelector = colocation?.node
    ? { ...template?.nodeSelector, [HOSTNAME_LABEL]: colocation.node }
    : template?.nodeSelector;
  if (!colocation) return { nodeSelector, affinity: template?.affinity };
  const affinity = (template?.affinity ?? {}) as {
    podAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: unknown[] };
  };
  const term = {
    labelSelector: { matchLabels: { [LABEL_COLOCATE]: colocation.group } },
    topologyKey: HOSTNAME_LABEL,
  };
  return {
    nodeSelector,
    affinity: {
      ...affinity,
      podAffinity: {
        ...affinity.podAffinity,
        requiredDuringSchedulingIgnoredDuringExecution: [
          ...(affinity.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []),
          term,
        ],
      },
    },
  };
}

/** Where the agent's Pod runs and how: the agent's Pod template, field by field, and its workspaces' node. */
function placement(plan: JobPlan, template: PodTemplate | undefined) {
  const { nodeSelector, affinity } = colocated(plan, template);
  if (!template) {
    return { ...(nodeSelector ? { nodeSelector } : {}), ...(affinity ? { affinity } : {}) };
  }
  const { tolerations, topologySpreadConstraints, runtimeClassName, priorityClassName, imagePullSecrets } =
    template;
  return {
    ...(nodeSelector ? { nodeSelector } : {}),
    ...(tolerations ? { tolerations } : {}),
    ...(affinity ? { affinity } : {}),
    ...(topologySpreadConstraints ? { topologySpreadConstraints } : {}),
    ...(runtimeClassName ? { runtimeClassName } : {}),
    ...(priorityClassName ? { priorityClassName } : {}),
    ...(imagePullSecrets ? { imagePullSecrets } : {}),
  };
}

/**
 * The restricted defaults (non-root, no escalation, no capabilities, RuntimeDefault seccomp,
 * read-only root), with what the agent's template sets instead: admission lets it only tighten
 * them, or loosen what the operator's configuration allows.
 */
function securityContexts(template: PodTemplate | undefined, mountsClaims: boolean) {
  const own = template?.securityContext ?? {};
  const runAsGroup = own.runAsGroup ?? NON_ROOT_UID;
  // A claim's volume belongs to root until fsGroup gives it to the agent's group.
  const claimGroup = own.fsGroup === undefined && mountsClaims;
  return {
    pod: {
      runAsNonRoot: true,
      runAsUser: own.runAsUser ?? NON_ROOT_UID,
      runAsGroup,
      ...(own.fsGroup === undefined ? {} : { fsGroup: own.fsGroup }),
      ...(claimGroup ? { fsGroup: runAsGroup, fsGroupChangePolicy: 'OnRootMismatch' } : {}),
      seccompProfile: own.seccompProfile ?? { type: 'RuntimeDefault' },
    },
    container: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: own.readOnlyRootFilesystem ?? true,
      capabilities: { drop: ['ALL'], ...(own.addCapabilities ? { add: own.addCapabilities } : {}) },
    },
  };
}

export function buildJob(runbook: CachedRunbook, plan: JobPlan): JobJson {
  const labels = jobLabels(runbook, plan);
  const template = plan.podTemplate;
  const annotations = {
    ...template?.annotations,
    [ANNOTATION_INPUTS]: plan.files.inputs,
    [ANNOTATION_PARAMETERS]: plan.files.parameters,
    [ANNOTATION_BUDGET]: plan.files.budget,
  };
  const jobAnnotations = {
    ...(plan.agentKey ? { [ANNOTATION_AGENT_KEY]: plan.agentKey } : {}),
    ...(plan.grant ? { [ANNOTATION_GRANT]: JSON.stringify(plan.grant) } : {}),
  };
  const scratch = scratchVolumes(plan);
  const workspaces = workspaceVolumes(plan);
  const security = securityContexts(template, workspaces.claims);
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: plan.name,
      namespace: runbook.metadata.namespace,
      labels,
      ...(Object.keys(jobAnnotations).length ? { annotations: jobAnnotations } : {}),
      ownerReferences: [ownedBy(runbook)],
    },
    spec: {
      // The operator owns retries: one Pod per Job, a new Job per attempt.
      backoffLimit: 0,
      ...(plan.activeDeadlineSeconds === undefined
        ? {}
        : { activeDeadlineSeconds: plan.activeDeadlineSeconds }),
      template: {
        // The operator's labels win: they are how it finds its Pods.
        metadata: {
          labels: {
            ...template?.labels,
            ...labels,
            ...(plan.colocation ? { [LABEL_COLOCATE]: plan.colocation.group } : {}),
          },
          annotations,
        },
        spec: {
          restartPolicy: 'Never',
          volumes: [
            filesVolume(plan),
            ...scratch.volumes,
            ...workspaces.volumes,
            ...(template?.volumes ?? []),
          ],
          automountServiceAccountToken: plan.automountServiceAccountToken,
          ...(plan.serviceAccountName ? { serviceAccountName: plan.serviceAccountName } : {}),
          ...placement(plan, template),
          securityContext: security.pod,
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
              volumeMounts: [
                { name: FILES_VOLUME, mountPath: FILES_DIR, readOnly: true },
                ...scratch.mounts,
                ...workspaces.mounts,
                ...(template?.volumeMounts ?? []),
              ],
              terminationMessagePath: TERMINATION_MESSAGE_PATH,
              terminationMessagePolicy: 'File',
              securityContext: security.container,
            },
          ],
        },
      },
    },
  };
}
