/**
 * What a kubelet puts in a Pod's projected volumes, for the fake node: downward-API files from the
 * Pod's annotations and ConfigMap keys read from the API server. The tests' agents then read the
 * same files an agent in a cluster reads.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ApiException, type CoreV1Api, type V1Pod } from '@kubernetes/client-node';

const ANNOTATION_FIELD = /^metadata\.annotations\['(.+)'\]$/;

/** The files of the Pod's projected volumes, by path inside the volume. */
export async function projectedFiles(core: CoreV1Api, pod: V1Pod): Promise<Map<string, string>> {
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
