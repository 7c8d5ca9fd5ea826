/**
 * What a kubelet hands a Pod's first container, for the fake node: its environment (values, and
 * keys of Secrets read from the API server) and its projected volumes (downward-API files from
 * the Pod's annotations, ConfigMap keys read from the API server). The tests' agents then read
 * what an agent in a cluster reads.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ApiException, type CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { setOwn } from '../../src/api/json.js';

const ANNOTATION_FIELD = /^metadata\.annotations\['(.+)'\]$/;

export interface Mounted {
  /** The files of the Pod's projected volumes, by path inside the volume. */
  files: ReadonlyMap<string, string>;
  /** The first container's environment. */
  env: Record<string, string>;
}

export async function mounted(core: CoreV1Api, pod: V1Pod): Promise<Mounted> {
  return { files: await projectedFiles(core, pod), env: await containerEnv(core, pod) };
}

/** A missing Secret fails the Pod's start on a kubelet; here it fails the step, which the fake node records. */
async function containerEnv(core: CoreV1Api, pod: V1Pod): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const variable of pod.spec?.containers[0]?.env ?? []) {
    const ref = variable.valueFrom?.secretKeyRef;
    if (!ref) {
      setOwn(env, variable.name, variable.value ?? '');
      continue;
    }
    const secret = await core.readNamespacedSecret({
      name: ref.name ?? '',
      namespace: pod.metadata?.namespace ?? '',
    });
    const value = secret.data?.[ref.key];
    if (value !== undefined) setOwn(env, variable.name, Buffer.from(value, 'base64').toString('utf8'));
  }
  return env;
}

async function projectedFiles(core: CoreV1Api, pod: V1Pod): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const namespace = pod.metadata?.namespace ?? '';
  for (const volume of pod.spec?.volumes ?? []) {
    for (const source of volume.projected?.sources ?? []) {
      for (const item of source.downwardAPI?.items ?? []) {
        const annotation = ANNOTATION_FIELD.exec(item.fieldRef?.fieldPath ?? '')?.[1];
        if (annotation !== undefined) files.set(item.path, pod.metadata?.annotations?.[annotation] ?? '');
      }
      const configMap = source.configMap;
      if (!configMap) continue;
      let data: Record<string, string>;
      try {
        data = (await core.readNamespacedConfigMap({ name: configMap.name ?? '', namespace })).data ?? {};
      } catch (error) {
        // An optional ConfigMap that is gone leaves its files out, as a kubelet does.
        if (error instanceof ApiException && error.code === 404 && configMap.optional) continue;
        throw error;
      }
      for (const item of configMap.items ?? []) {
        const value = data[item.key];
        if (value !== undefined) files.set(item.path, value);
      }
    }
  }
  return files;
}

export function writeFiles(dir: string, files: ReadonlyMap<string, string>): void {
  for (const [path, text] of files) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
}
