/**
 * How an agent's Pod is placed and configured: the parts of a Pod spec a team needs for a real
 * agent (placement, runtime class, pull secrets, identity, volumes), and none that would loosen
 * the restricted defaults the operator runs every agent with (no hostPath, no privilege, no host
 * namespaces). Scratch space is separate: every agent gets it.
 */
import { Type, type Static } from '@sinclair/typebox';
import { FILES_DIR } from './agent-contract.js';
import {
  Bool,
  FreeObject,
  Int,
  Name,
  NamedList,
  Obj,
  Str,
  StrList,
  StringEnum,
  ServiceAccountName,
} from './schema-kit.js';

/** A Kubernetes quantity, as resources and emptyDir sizes are written (512Mi, 1Gi). */
export const QUANTITY_PATTERN = '^[0-9]+(\\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti|E|Ei)?$';
export const Quantity = (description: string) =>
  Str(description, { maxLength: 32, pattern: QUANTITY_PATTERN });

/** Scratch space every agent gets unless its agent says otherwise. */
export const SCRATCH_DEFAULTS = { tmpSizeLimit: '1Gi', homeSizeLimit: '256Mi', home: '/home/agent' } as const;

/** The volumes the operator adds to every agent Pod: its files, /tmp and HOME. */
export const RESERVED_VOLUMES = ['agentrunbook', 'scratch-tmp', 'scratch-home'] as const;
/** The runbook's workspaces a stage mounts are its Pod's volumes workspace-0, workspace-1, ... */
export const WORKSPACE_VOLUME_PREFIX = 'workspace-';

export const StringMap = (description: string, maxProperties = 32) =>
  Type.Record(Type.String({ minLength: 1, maxLength: 317 }), Str('A value.', { maxLength: 1024 }), {
    description,
    maxProperties,
  });

export const Toleration = Obj('A toleration, as in a Pod spec.', {
  key: Type.Optional(Str('Taint key; empty with operator Exists tolerates every taint.', { maxLength: 317 })),
  operator: Type.Optional(StringEnum('How key and value match.', ['Exists', 'Equal'] as const)),
  value: Type.Optional(Str('Taint value.', { maxLength: 63 })),
  effect: Type.Optional(
    StringEnum('Taint effect to tolerate; all when empty.', [
      'NoSchedule',
      'PreferNoSchedule',
      'NoExecute',
    ] as const),
  ),
  tolerationSeconds: Type.Optional(Int('How long a NoExecute taint is tolerated.', { minimum: 0 })),
});

export const Volume = Obj(
  'A volume of the agent Pod, from a Secret, a ConfigMap, a PersistentVolumeClaim, an emptyDir or a CSI driver; nothing else (no hostPath).',
  {
    name: Name('Name of the volume, as volumeMounts refer to it.'),
    secret: Type.Optional(FreeObject('A Secret volume source, as in a Pod spec (secretName, items, ...).')),
    configMap: Type.Optional(FreeObject('A ConfigMap volume source, as in a Pod spec (name, items, ...).')),
    persistentVolumeClaim: Type.Optional(
      FreeObject('A PersistentVolumeClaim volume source, as in a Pod spec (claimName, readOnly).'),
    ),
    emptyDir: Type.Optional(FreeObject('An emptyDir volume source, as in a Pod spec (medium, sizeLimit).')),
    csi: Type.Optional(FreeObject('A CSI volume source, as in a Pod spec (driver, volumeAttributes, ...).')),
  },
  {
    celRules: [
      {
        rule: '[has(self.secret), has(self.configMap), has(self.persistentVolumeClaim), has(self.emptyDir), has(self.csi)].filter(x, x).size() == 1',
        message: 'a volume has exactly one source: secret, configMap, persistentVolumeClaim, emptyDir or csi',
      },
    ],
  },
);

export const VolumeMount = Obj('Where a volume appears in the agent container.', {
  name: Name('Name of a volume of volumes.'),
  mountPath: Str('Absolute path in the container.', { maxLength: 1024, pattern: '^/' }),
  subPath: Type.Optional(Str('Path within the volume.', { maxLength: 1024 })),
  readOnly: Type.Optional(Bool('Mount read-only.')),
});

export const AgentSecurityContext = Obj(
  "Settings of the agent's security context. The operator's restricted defaults (non-root, no privilege escalation, all capabilities dropped, RuntimeDefault seccomp, read-only root filesystem) stay; these may only make it stricter, or, where the operator's configuration allows, add capabilities or a writable root filesystem.",
  {
    runAsUser: Type.Optional(Int('User the container runs as (not root).', { minimum: 1 })),
    runAsGroup: Type.Optional(Int('Group the container runs as (not root).', { minimum: 1 })),
    fsGroup: Type.Optional(Int('Group that owns the Pod volumes.', { minimum: 1 })),
    seccompProfile: Type.Optional(
      Obj('Seccomp profile; RuntimeDefault unless Localhost names a profile on the node.', {
        type: StringEnum('Profile type.', ['RuntimeDefault', 'Localhost'] as const),
        localhostProfile: Type.Optional(Str('Profile file on the node, for Localhost.', { maxLength: 1024 })),
      }),
    ),
    readOnlyRootFilesystem: Type.Optional(
      Bool('false makes the root filesystem writable; refused unless the operator allows it.'),
    ),
    addCapabilities: Type.Optional(
      StrList(
        'Capabilities to add back; refused unless the operator allows each.',
        Str('A capability, e.g. NET_BIND_SERVICE.', { maxLength: 64, pattern: '^[A-Z_]+$' }),
        16,
      ),
    ),
  },
);

export const Scratch = Obj(
  'Writable scratch space: an emptyDir at /tmp and one at HOME, so the read-only root filesystem stays and ordinary programs still run.',
  {
    tmpSizeLimit: Type.Optional(Quantity(`Size limit of /tmp (default ${SCRATCH_DEFAULTS.tmpSizeLimit}).`)),
    homeSizeLimit: Type.Optional(Quantity(`Size limit of HOME (default ${SCRATCH_DEFAULTS.homeSizeLimit}).`)),
  },
);

export const PodTemplate = Obj("How the agent's Pod is placed and configured.", {
  labels: Type.Optional(StringMap('Labels of the Pod (the operator adds its own, which win).')),
  annotations: Type.Optional(
    StringMap('Annotations of the Pod, e.g. for workload identity or a service mesh.'),
  ),
  nodeSelector: Type.Optional(StringMap('Node labels the Pod must run on.')),
  tolerations: Type.Optional(
    Type.Array(Toleration, { description: 'Taints the Pod tolerates.', maxItems: 32 }),
  ),
  affinity: Type.Optional(FreeObject('Node and Pod affinity, as in a Pod spec.')),
  topologySpreadConstraints: Type.Optional(
    Type.Array(FreeObject('A topology spread constraint, as in a Pod spec.'), {
      description: 'How Pods of the agent spread over zones or nodes.',
      maxItems: 8,
    }),
  ),
  runtimeClassName: Type.Optional(
    Str('RuntimeClass of the Pod, e.g. gvisor or kata, the sandbox for untrusted agents.', {
      maxLength: 253,
    }),
  ),
  priorityClassName: Type.Optional(Str('PriorityClass of the Pod.', { maxLength: 253 })),
  imagePullSecrets: Type.Optional(
    Type.Array(Obj('A Secret with registry credentials.', { name: Name('Name of the Secret.') }), {
      description: "Secrets to pull the agent's image with.",
      maxItems: 16,
    }),
  ),
  serviceAccountName: Type.Optional(
    ServiceAccountName('ServiceAccount the Pod runs as; the namespace default when absent.'),
  ),
  automountServiceAccountToken: Type.Optional(
    Bool("Mount the ServiceAccount's token into the Pod; off unless set to true."),
  ),
  volumes: Type.Optional(NamedList('Volumes of the Pod.', Volume, 16)),
  volumeMounts: Type.Optional(
    Type.Array(VolumeMount, {
      description: 'Where the volumes appear in the agent container.',
      maxItems: 32,
    }),
  ),
  securityContext: Type.Optional(AgentSecurityContext),
});

export type PodTemplate = Static<typeof PodTemplate>;
export type Scratch = Static<typeof Scratch>;

/** A mount path without trailing slashes ('/' stays '/'), so paths compare by prefix. */
export const mountPoint = (path: string): string => path.replace(/\/+$/, '') || '/';

/** Whether mounting at `path` (a mountPoint) hides `other`: the same directory or one above it. */
export const hidesPath = (path: string, other: string): boolean =>
  path === '/' || path === other || other.startsWith(`${path}/`);

/** A label or annotation key: an optional DNS prefix and a name (as the API server checks them). */
const QUALIFIED_KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

export function keyProblems(map: Record<string, string> | undefined, at: string, checkValues: boolean) {
  return Object.entries(map ?? {}).flatMap(([key, value]) => {
    if (!QUALIFIED_KEY.test(key) || key.length > 317)
      return [
        {
          field: `${at}.${key}`,
          message: 'is not a valid key: [prefix/]name, as labels and annotations take',
        },
      ];
    if (checkValues && (value.length > 63 || !LABEL_VALUE.test(value)))
      return [
        { field: `${at}.${key}`, message: `value ${JSON.stringify(value)} is not a valid label value` },
      ];
    return [];
  });
}

/**
 * What the schema cannot say about a Pod template: volumes and mounts fit together and keep off
 * the operator's own, and keys are valid, so a Job is never refused at run time for them.
 * `home` is where HOME's scratch is mounted.
 */
export function podTemplateProblems(
  template: PodTemplate | undefined,
  at: string,
  home: string,
): { field: string; message: string }[] {
  if (!template) return [];
  const names = new Set((template.volumes ?? []).map((volume) => volume.name));
  const reserved = new Set<string>(RESERVED_VOLUMES);
  const reservedPaths = [FILES_DIR, '/tmp', home];
  return [
    ...keyProblems(template.labels, `${at}.labels`, true),
    ...keyProblems(template.annotations, `${at}.annotations`, false),
    ...keyProblems(template.nodeSelector, `${at}.nodeSelector`, true),
    ...(template.volumes ?? []).flatMap((volume, index) =>
      reserved.has(volume.name) || volume.name.startsWith(WORKSPACE_VOLUME_PREFIX)
        ? [
            {
              field: `${at}.volumes[${index}].name`,
              message: `${volume.name} is the operator's own volume; reserved names: ${RESERVED_VOLUMES.join(', ')} and ${WORKSPACE_VOLUME_PREFIX}<n>`,
            },
          ]
        : [],
    ),
    ...(template.volumeMounts ?? []).flatMap((mount, index) => {
      const field = `${at}.volumeMounts[${index}]`;
      if (!names.has(mount.name))
        return [{ field: `${field}.name`, message: `names no volume of ${at}.volumes` }];
      const clash = reservedPaths.find((reservedPath) =>
        hidesPath(mountPoint(mount.mountPath), reservedPath),
      );
      return clash
        ? [
            {
              field: `${field}.mountPath`,
              message: `would hide ${clash}, where the operator mounts the agent's files or scratch`,
            },
          ]
        : [];
    }),
  ];
}
