/**
 * Workspaces (Tekton's are the model): storage a run's stages share. The runbook declares each
 * once; a stage mounts the ones it names. A claim template gives every run its own
 * PersistentVolumeClaim, made before the first Job that mounts it and deleted with the run's Jobs
 * (spec.history); an existing claim is mounted as it is; an emptyDir lives in one stage's Pod.
 */
import { Type, type Static } from '@sinclair/typebox';
import { hidesPath, keyProblems, mountPoint, Quantity, StringMap } from '../pod-template.js';
import { Bool, Name, Obj, Str, StrList, StringEnum } from '../schema-kit.js';

/** Where a stage finds a workspace that its binding gives no mountPath for. */
export const WORKSPACES_ROOT = '/workspace';

export const ACCESS_MODES = ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'] as const;

const ClaimTemplate = Obj(
  "A PersistentVolumeClaim made for each run (named after the runbook, the workspace and the run), owned by the runbook and deleted with the run's Jobs.",
  {
    metadata: Type.Optional(
      Obj('Labels and annotations of the claim.', {
        labels: Type.Optional(StringMap('Labels of the claim.')),
        annotations: Type.Optional(StringMap('Annotations of the claim.')),
      }),
    ),
    spec: Obj('The claim, as in a PersistentVolumeClaim.', {
      accessModes: Type.Optional(
        StrList(
          'Access modes; ReadWriteOnce when absent. Stages that share a ReadWriteOnce claim run on one node.',
          StringEnum('An access mode.', ACCESS_MODES),
          4,
        ),
      ),
      storageClassName: Type.Optional(
        Str('StorageClass of the claim; the cluster default when absent.', { maxLength: 253 }),
      ),
      volumeMode: Type.Optional(
        StringEnum('Filesystem (the default) or Block.', ['Filesystem', 'Block'] as const),
      ),
      resources: Obj('What the claim asks for.', {
        requests: Obj('Requested resources.', { storage: Quantity('Size of the volume, e.g. 1Gi.') }),
      }),
    }),
  },
);

export const Workspace = Obj(
  'Storage the stages that name it share: exactly one of volumeClaimTemplate, persistentVolumeClaim or emptyDir.',
  {
    name: Name('Name of the workspace, as stages name it.'),
    description: Type.Optional(Str('What the workspace holds.', { maxLength: 1024 })),
    volumeClaimTemplate: Type.Optional(ClaimTemplate),
    persistentVolumeClaim: Type.Optional(
      Obj(
        "An existing claim in the runbook's namespace, mounted as it is (never deleted by the operator). Naming one needs the right to create Jobs in the namespace. Its access modes are not read: stages that share it run on one node, as for ReadWriteOnce.",
        { claimName: Str('Name of the claim.', { maxLength: 253, minLength: 1 }) },
      ),
    ),
    emptyDir: Type.Optional(
      Obj('A scratch directory for a single stage, gone with its Pod.', {
        sizeLimit: Type.Optional(Quantity('Most the directory may hold, e.g. 1Gi.')),
        medium: Type.Optional(
          StringEnum("Memory for a tmpfs; the node's disk when absent.", ['Memory'] as const),
        ),
      }),
    ),
  },
  {
    celRules: [
      {
        rule: '[has(self.volumeClaimTemplate), has(self.persistentVolumeClaim), has(self.emptyDir)].filter(x, x).size() == 1',
        message: 'a workspace has exactly one of volumeClaimTemplate, persistentVolumeClaim or emptyDir',
      },
    ],
  },
);

export const WorkspaceBinding = Obj('A workspace of spec.workspaces that this stage mounts.', {
  name: Name('Name of the workspace in spec.workspaces.'),
  mountPath: Type.Optional(
    Str(`Where the agent finds it; ${WORKSPACES_ROOT}/<name> when absent.`, {
      maxLength: 1024,
      pattern: '^/',
    }),
  ),
  readOnly: Type.Optional(Bool('Mount it read-only.')),
});

export type WorkspaceV2 = Static<typeof Workspace>;
export type WorkspaceBindingV2 = Static<typeof WorkspaceBinding>;

export function workspaceMountPath(binding: WorkspaceBindingV2): string {
  return binding.mountPath ?? `${WORKSPACES_ROOT}/${binding.name}`;
}

/** Whether the stages that share the workspace must run on one node. */
export function sharedOnOneNode(workspace: WorkspaceV2): boolean {
  if (workspace.persistentVolumeClaim) return true;
  const modes = workspace.volumeClaimTemplate?.spec.accessModes ?? ['ReadWriteOnce'];
  return !modes.includes('ReadWriteMany') && !modes.includes('ReadOnlyMany');
}

/**
 * What the schema cannot say about workspaces: stages name declared ones, an emptyDir is named by
 * one stage only, and no mount hides the operator's own (`reserved`: its files, /tmp and the
 * default HOME) or takes another's path, so a Job is never refused at run time for them.
 */
export function workspaceProblems(
  workspaces: readonly WorkspaceV2[] | undefined,
  stages: readonly { name: string; workspaces?: WorkspaceBindingV2[] }[],
  reserved: readonly string[],
): { field: string; message: string }[] {
  const declared = new Map((workspaces ?? []).map((workspace) => [workspace.name, workspace]));
  const problems: { field: string; message: string }[] = (workspaces ?? []).flatMap((workspace, index) => {
    const at = `spec.workspaces[${index}].volumeClaimTemplate.metadata`;
    const metadata = workspace.volumeClaimTemplate?.metadata;
    return [
      ...keyProblems(metadata?.labels, `${at}.labels`, true),
      ...keyProblems(metadata?.annotations, `${at}.annotations`, false),
    ];
  });
  const emptyDirUsers = new Map<string, string>();
  stages.forEach((stage, stageIndex) => {
    const paths: string[] = [];
    (stage.workspaces ?? []).forEach((binding, index) => {
      const field = `spec.agents.pipeline[${stageIndex}].workspaces[${index}]`;
      const workspace = declared.get(binding.name);
      if (!workspace) {
        problems.push({ field: `${field}.name`, message: `names no workspace of spec.workspaces` });
        return;
      }
      if (workspace.emptyDir) {
        const first = emptyDirUsers.get(binding.name);
        if (first !== undefined) {
          problems.push({
            field: `${field}.name`,
            message: `workspace ${binding.name} is an emptyDir, which lives in one stage's Pod, and stage ${first} names it already: give it a volumeClaimTemplate to share files between stages`,
          });
        } else emptyDirUsers.set(binding.name, stage.name);
      }
      const path = mountPoint(workspaceMountPath(binding));
      const hidden = reserved.find((other) => hidesPath(path, other));
      const clash = paths.find((other) => other === path);
      if (hidden !== undefined) {
        problems.push({
          field: `${field}.mountPath`,
          message: `${path} would hide ${hidden}, where the operator mounts the agent's files or scratch`,
        });
      } else if (clash !== undefined) {
        problems.push({
          field: `${field}.mountPath`,
          message: `this stage mounts another workspace at ${clash} already`,
        });
      }
      paths.push(path);
    });
  });
  return problems;
}

/** Declared workspaces no stage names: accepted, but nothing is made for them. */
export function unusedWorkspaces(
  workspaces: readonly WorkspaceV2[] | undefined,
  stages: readonly { workspaces?: WorkspaceBindingV2[] }[],
): string[] {
  const named = new Set(stages.flatMap((stage) => (stage.workspaces ?? []).map((binding) => binding.name)));
  return (workspaces ?? []).flatMap((workspace, index) =>
    named.has(workspace.name)
      ? []
      : [
          `spec.workspaces[${index}]: no stage of spec.agents.pipeline names workspace ${workspace.name}, so the operator makes nothing for it`,
        ],
  );
}
