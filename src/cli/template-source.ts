/** The templates a command works with: a cluster's (as a runbook in the namespace sees them), or a directory's. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { GROUP, STORAGE_VERSION, TEMPLATE_KINDS } from '../api/group.js';
import type { TemplateSpecV2 } from '../api/v2/template.js';
import { validateTemplate } from '../api/validator.js';
import { visibleTemplates, type KindedTemplate } from '../generator/select.js';
import type { Command } from 'commander';
import type { KubeHttp } from '../kube/http.js';
import { connect, type ClusterFlags } from './cluster-flags.js';
import type { TemplateJson } from '../kube/types.js';

interface TemplateObject {
  kind?: string;
  metadata?: { name?: string };
  spec?: TemplateSpecV2;
}

/** Every template in a directory's YAML files (config/templates, say), checked against the schema. */
export function templatesFromDirectory(dir: string): KindedTemplate[] {
  const templates: KindedTemplate[] = [];
  for (const file of readdirSync(dir)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()) {
    for (const document of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
      const object = document.toJS() as TemplateObject | null;
      if (!object?.kind?.endsWith('AgentRunbookTemplate')) continue;
      const problems = validateTemplate(object);
      if (problems.length) {
        throw new Error(`${join(dir, file)}: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`);
      }
      templates.push({
        kind: object.kind,
        name: object.metadata?.name ?? '',
        spec: object.spec as TemplateSpecV2,
      });
    }
  }
  return templates;
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
