/**
 * spec.template: which template a runbook is made from, and the spec it makes. Resolved once per
 * generation and kept in status.template (Argo's storedWorkflowTemplateSpec is the model), so a
 * template changed later never changes a run.
 */
import { GROUP, STORAGE_VERSION, TEMPLATE_KINDS } from '../api/group.js';
import { TEMPLATE_RUNBOOK_FIELDS, type SpecV2, type StatusV2 } from '../api/v2/runbook.js';
import { validateAgentRunbook } from '../api/validator.js';
import { renderRunbook } from '../generator/render.js';
import {
  selectTemplate,
  visibleTemplates,
  type KindedTemplate,
  type SelectionContext,
} from '../generator/select.js';
import type { Informer } from '../kube/informer.js';
import type { AgentRunbookJson, TemplateJson } from '../kube/types.js';

export type TemplateStatus = NonNullable<StatusV2['template']>;
export type Resolution = { template: TemplateStatus } | { reason: string; message: string };

const TEMPLATES_BY_NAMESPACE = 'namespace';
const SHOWN_PROBLEMS = 3;

function describeContext(context: SelectionContext): string {
  const parts = [
    `complexity=${context.complexity ?? '(none)'}`,
    `domains=[${(context.domains ?? []).join(', ')}]`,
    `riskLevel=${context.riskLevel ?? 0}`,
    `userType=${context.userType ?? '(none)'}`,
  ];
  return parts.join(', ');
}

export class TemplateResolver {
  constructor(
    private readonly namespaced: Informer<TemplateJson>,
    private readonly cluster: Informer<TemplateJson>,
  ) {
    namespaced.addIndex(TEMPLATES_BY_NAMESPACE, (template) => [template.metadata.namespace ?? '']);
  }

  /** Templates a runbook in `namespace` may use, of one kind or both. */
  private candidates(namespace: string, kind: string | undefined): KindedTemplate[] {
    const of = (templates: Iterable<TemplateJson>, templateKind: string): KindedTemplate[] =>
      kind !== undefined && kind !== templateKind
        ? []
        : [...templates].map((template) => ({
            name: template.metadata.name ?? '',
            kind: templateKind,
            spec: template.spec,
          }));
    return visibleTemplates(
      of(this.cluster.values(), TEMPLATE_KINDS.cluster.kind),
      of(this.namespaced.byIndex(TEMPLATES_BY_NAMESPACE, namespace), TEMPLATE_KINDS.namespaced.kind),
    );
  }

  resolve(runbook: AgentRunbookJson, now: Date): Resolution {
    const ref = runbook.spec.template ?? {};
    const namespace = runbook.metadata.namespace ?? '';
    const context = runbook.spec.context ?? {};
    const candidates = this.candidates(namespace, ref.kind);
    let chosen: KindedTemplate;
    let reason: string;
    if (ref.name !== undefined) {
      const named = candidates.find((candidate) => candidate.name === ref.name);
      if (!named) {
        const kinds =
          ref.kind ?? `${TEMPLATE_KINDS.namespaced.kind} (in ${namespace}) or ${TEMPLATE_KINDS.cluster.kind}`;
        return { reason: 'TemplateNotFound', message: `no ${kinds} named ${ref.name}` };
      }
      chosen = named;
      reason = `named in spec.template`;
    } else {
      const selection = selectTemplate(candidates, context);
      if (!selection) {
        return {
          reason: 'NoTemplateMatches',
          message: `no template's rules select this context (${describeContext(context)}) among ${candidates.length} templates`,
        };
      }
      chosen = selection.template;
      reason = `selected: ${selection.reason}`;
    }
    const rendered = renderRunbook(chosen, context, now, namespace);
    if ('problem' in rendered) return { reason: 'TemplateRenderFailed', message: rendered.problem };
    const own = Object.fromEntries(
      Object.entries(runbook.spec).filter(
        ([field]) => (TEMPLATE_RUNBOOK_FIELDS as readonly string[]).includes(field) && field !== 'template',
      ),
    );
    const spec = { ...rendered.runbook.spec, ...own, context: rendered.runbook.spec.context } as SpecV2;
    const problems = validateAgentRunbook({
      apiVersion: `${GROUP}/${STORAGE_VERSION}`,
      kind: 'AgentRunbook',
      metadata: {},
      spec,
    });
    if (problems.length) {
      const shown = problems
        .slice(0, SHOWN_PROBLEMS)
        .map((problem) => `${problem.field}: ${problem.message}`);
      return {
        reason: 'TemplateInvalid',
        message: `${chosen.kind} ${chosen.name} makes a runbook the schema refuses: ${shown.join('; ')}${problems.length > SHOWN_PROBLEMS ? ` and ${problems.length - SHOWN_PROBLEMS} more` : ''}`,
      };
    }
    return {
      template: {
        kind: chosen.kind as TemplateStatus['kind'],
        name: chosen.name,
        observedGeneration: runbook.metadata.generation ?? 1,
        reason: reason.slice(0, 1024),
        spec: spec,
      },
    };
  }
}
