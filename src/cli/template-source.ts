/** The templates a command works with: a cluster's (as a runbook in the namespace sees them), or a directory's. */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { templatesFromCluster } from '../client/templates.js';
import type { KindedTemplate } from '../generator/select.js';
import type { Command } from 'commander';
import { connect, type ClusterFlags } from './cluster-flags.js';
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
