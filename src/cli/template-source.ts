/** The templates a command works with: a cluster's (as a runbook in the namespace sees them), or a directory's. */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { GROUP, STORAGE_VERSION, TEMPLATE_KINDS } from '../api/group.js';
import { visibleTemplates, type KindedTemplate } from '../generator/select.js';
import type { Command } from 'commander';
import type { KubeHttp } from '../kube/http.js';
import { connect, type ClusterFlags } from './cluster-flags.js';
import type { TemplateJson } from '../kube/types.js';
import { readTemplateFile } from '../operator/template-library.js';

/** Every template in a directory's YAML files (config/templates, say), checked against the schema. */
export function templatesFromDirectory(dir: string): KindedTemplate[] {
  return readdirSync(dir)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .flatMap((file) => readTemplateFile(join(dir, file)).templates)
    .map((template) => ({
      kind: String(template.kind),
      name: template.metadata.name ?? '',
      spec: template.spec,
    }));
}

/** The cluster's templates that a runbook in `namespace` may use. */
export async function templatesFromCluster(http: KubeHttp, namespace: string): Promise<KindedTemplate[]> {
  const list = async (path: string, kind: string) =>
    (await http.request<{ items: TemplateJson[] }>({ method: 'GET', path })).items.map((item) => ({
      kind,
      name: item.metadata.name ?? '',
      spec: item.spec,
    }));
  const prefix = `/apis/${GROUP}/${STORAGE_VERSION}`;
  const [cluster, namespaced] = await Promise.all([
    list(`${prefix}/${TEMPLATE_KINDS.cluster.plural}`, TEMPLATE_KINDS.cluster.kind),
    list(
      `${prefix}/namespaces/${namespace}/${TEMPLATE_KINDS.namespaced.plural}`,
      TEMPLATE_KINDS.namespaced.kind,
    ),
  ]);
  return visibleTemplates(cluster, namespaced);
}

export interface TemplateSourceFlags extends ClusterFlags {
  library?: string;
}

/** The templates from --library, else from the cluster; with the namespace the runbook goes to. */
export async function loadTemplates(flags: TemplateSourceFlags) {
  if (flags.library) {
    return { templates: templatesFromDirectory(flags.library), namespace: flags.namespace, http: undefined };
  }
  const { http, namespace } = await connect(flags);
  return { templates: await templatesFromCluster(http, namespace), namespace, http };
}

export function withLibraryFlag(command: Command): Command {
  return command.option(
    '--library <dir>',
    "read templates from this directory's YAML files instead of the cluster",
  );
}
