/** The templates in a cluster that a runbook in a namespace may use, and runbooks made from them. */
import { GROUP, STORAGE_VERSION, TEMPLATE_KINDS } from '../api/group.js';
import { renderRunbook } from '../generator/render.js';
import { selectTemplate, visibleTemplates, type KindedTemplate } from '../generator/select.js';
import type { KubeHttp } from '../kube/http.js';
import type { TemplateJson } from '../kube/types.js';
import { runbooksPath } from './runbook-actions.js';

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

/** What to do when a cluster (or --library directory) has no templates at all. */
export const NO_TEMPLATES =
  'there are no templates to generate from: install the template library (kubectl apply -f manifests/template-library.yaml; the chart and install.yaml install it) or name a directory with --library';

/** The named template, or the one whose rules select `context`; an Error says why there is none. */
export function chooseTemplate(
  templates: readonly KindedTemplate[],
  context: Record<string, unknown>,
  name: string | undefined,
): KindedTemplate {
  const template = name
    ? templates.find((candidate) => candidate.name === name)
    : selectTemplate(templates, context)?.template;
  if (template) return template;
  if (name) throw new Error(`no template named ${name} (agentrunbook templates lists them)`);
  throw new Error(
    templates.length === 0
      ? NO_TEMPLATES
      : `no template's rules select this context (agentrunbook templates select explains)`,
  );
}

/** Renders the runbook a template makes for `context`, as generate does; an Error says what is wrong. */
export function generatedRunbook(
  template: KindedTemplate,
  context: Record<string, unknown>,
  namespace: string | undefined,
) {
  const rendered = renderRunbook(template, context, new Date(), namespace);
  if ('problem' in rendered) throw new Error(rendered.problem);
  return rendered.runbook;
}

/** Creates a generated runbook in `namespace`. */
export function createRunbook(http: KubeHttp, namespace: string, runbook: unknown): Promise<unknown> {
  return http.request({ method: 'POST', path: runbooksPath(namespace), body: runbook });
}
