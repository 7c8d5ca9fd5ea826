/**
 * spec.template: the templates a runbook may see, from the template informers, handed to the pure
 * resolution (generator/resolve-template.ts). Resolved once per generation and kept in
 * status.template (Argo's storedWorkflowTemplateSpec is the model), so a template changed later
 * never changes a run.
 */
import { TEMPLATE_KINDS } from '../api/group.js';
import type { RunbookObject, TemplateResolution } from '../engine/model/types.js';
import { resolveTemplate } from '../generator/resolve-template.js';
import { visibleTemplates, type KindedTemplate } from '../generator/select.js';
import type { SharedInformer } from '../kube/informer.js';
import type { CachedTemplate } from '../kube/types.js';

const TEMPLATES_BY_NAMESPACE = 'namespace';

export class TemplateResolver {
  constructor(
    private readonly namespaced: SharedInformer<CachedTemplate>,
    private readonly cluster: SharedInformer<CachedTemplate>,
  ) {
    namespaced.addIndex(TEMPLATES_BY_NAMESPACE, (template) => [template.metadata.namespace ?? '']);
  }

  /** Templates a runbook in `namespace` may use, of one kind or both. */
  private candidates(namespace: string, kind: string | undefined): KindedTemplate[] {
    const of = (templates: Iterable<CachedTemplate>, templateKind: string): KindedTemplate[] =>
      kind !== undefined && kind !== templateKind
        ? []
        : [...templates].map((template) => ({
            name: template.metadata.name,
            kind: templateKind,
            spec: template.spec,
          }));
    return visibleTemplates(
      of(this.cluster.values(), TEMPLATE_KINDS.cluster.kind),
      of(this.namespaced.byIndex(TEMPLATES_BY_NAMESPACE, namespace), TEMPLATE_KINDS.namespaced.kind),
    );
  }

  resolve(runbook: Pick<RunbookObject, 'metadata' | 'spec'>, now: Date): TemplateResolution {
    const candidates = this.candidates(runbook.metadata.namespace, runbook.spec.template?.kind);
    return resolveTemplate(runbook, candidates, now);
  }
}
