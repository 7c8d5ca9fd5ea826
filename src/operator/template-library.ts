/**
 * The template library (config/templates/), kept in the cluster by the operator: a chart cannot
 * create ClusterAgentRunbookTemplates in the same install as their CRD, so the chart hands the
 * library to the operator (--template-library) and the leader applies it, server-side, at start.
 * Templates a user added are left alone; the library's own are restored if changed.
 */
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { GROUP, STORAGE_VERSION, TEMPLATE_KINDS } from '../api/group.js';
import { validateTemplate } from '../api/validator.js';
import type { KubeHttp } from '../kube/http.js';
import type { TemplateJson } from '../kube/types.js';

/**
 * The templates in a YAML file, each checked against the schema (a refused one is an error naming
 * the file, the template and the field), and the kinds of its other documents.
 */
export function readTemplateFile(path: string): { templates: TemplateJson[]; otherKinds: string[] } {
  const templates: TemplateJson[] = [];
  const otherKinds: string[] = [];
  for (const document of parseAllDocuments(readFileSync(path, 'utf8'))) {
    const object = document.toJS() as TemplateJson | null;
    if (object === null) continue;
    if (!object.kind?.endsWith('AgentRunbookTemplate')) {
      otherKinds.push(String(object.kind));
      continue;
    }
    const problems = validateTemplate(object);
    if (problems.length) {
      const name = object.metadata.name ?? '(unnamed)';
      throw new Error(`${path}: ${name}: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`);
    }
    templates.push(object);
  }
  return { templates, otherKinds };
}

/** Reads and checks a library file; anything the schema refuses stops the operator at start. */
export function readTemplateLibrary(path: string): TemplateJson[] {
  const { templates, otherKinds } = readTemplateFile(path);
  const other = [...otherKinds, ...templates.map((template) => String(template.kind))].find(
    (kind) => kind !== TEMPLATE_KINDS.cluster.kind,
  );
  if (other !== undefined) {
    throw new Error(`${path}: the library holds only ${TEMPLATE_KINDS.cluster.kind}s, not ${other}`);
  }
  return templates;
}

export async function applyTemplateLibrary(
  http: KubeHttp,
  templates: readonly TemplateJson[],
): Promise<void> {
  await Promise.all(
    templates.map((template) =>
      http.apply(
        `/apis/${GROUP}/${STORAGE_VERSION}/${TEMPLATE_KINDS.cluster.plural}/${template.metadata.name ?? ''}`,
        { ...template, apiVersion: `${GROUP}/${STORAGE_VERSION}` },
        true,
      ),
    ),
  );
}
