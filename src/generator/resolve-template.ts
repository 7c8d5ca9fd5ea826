/**
 * spec.template: which template a runbook is made from, and the spec it makes, from the templates
 * the runbook may see. Pure: the controller's TemplateResolver hands it the candidates from its
 * informers, and the engine decides what the outcome means for the run.
 */
import { GROUP, STORAGE_VERSION, TEMPLATE_KINDS } from '../api/group.js';
import { TEMPLATE_RUNBOOK_FIELDS, type SpecV2 } from '../api/v2/runbook.js';
import { capBudgets } from '../engine/stage/budget.js';
import { validateAgentRunbook } from '../api/validator.js';
import type {
  RunbookObject,
  TemplateReason,
  TemplateResolution,
  TemplateStatus,
} from '../engine/model/types.js';
import { renderRunbook } from './render.js';
import { selectTemplate, type KindedTemplate, type SelectionContext } from './select.js';

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

/** The template spec.template names, or the one whose rules select the runbook's context. */
function chooseTemplate(
  runbook: Pick<RunbookObject, 'metadata' | 'spec'>,
  candidates: KindedTemplate[],
): { chosen: KindedTemplate; reason: string } | { reason: TemplateReason; message: string } {
  const ref = runbook.spec.template ?? {};
  const kinds =
    ref.kind ??
    `${TEMPLATE_KINDS.namespaced.kind} (in ${runbook.metadata.namespace}) or ${TEMPLATE_KINDS.cluster.kind}`;
  if (ref.name !== undefined) {
    const named = candidates.find((candidate) => candidate.name === ref.name);
    if (named) return { chosen: named, reason: 'named in spec.template' };
    return { reason: 'TemplateNotFound', message: `no ${kinds} named ${ref.name}` };
  }
  const context = runbook.spec.context ?? {};
  const selection = selectTemplate(candidates, context);
  if (selection) return { chosen: selection.template, reason: `selected: ${selection.reason}` };
  return {
    reason: 'NoTemplateMatches',
    message:
      candidates.length === 0
        ? `there is no ${kinds} to choose from for this context (${describeContext(context)}): install the template library (kubectl apply -f manifests/template-library.yaml) or add one`
        : `no template's rules select this context (${describeContext(context)}) among ${candidates.length} templates`,
  };
}

export function resolveTemplate(
  runbook: Pick<RunbookObject, 'metadata' | 'spec'>,
  candidates: KindedTemplate[],
  now: Date,
): TemplateResolution {
  const choice = chooseTemplate(runbook, candidates);
  if (!('chosen' in choice)) return choice;
  const { chosen } = choice;
  const context = runbook.spec.context ?? {};
  const rendered = renderRunbook(chosen, context, now, runbook.metadata.namespace);
  if ('problem' in rendered) return { reason: 'TemplateRenderFailed', message: rendered.problem };
  const own = Object.fromEntries(
    Object.entries(runbook.spec).filter(
      ([field]) => (TEMPLATE_RUNBOOK_FIELDS as readonly string[]).includes(field) && field !== 'template',
    ),
  );
  const made = rendered.runbook.spec;
  // The runbook's own budgets cap the template's; they never raise them.
  const budgets = capBudgets(made.budgets, runbook.spec.budgets);
  const spec = {
    ...made,
    ...own,
    context: made.context,
    ...(budgets ? { budgets } : {}),
  } as SpecV2;
  const problems = validateAgentRunbook({
    apiVersion: `${GROUP}/${STORAGE_VERSION}`,
    kind: 'AgentRunbook',
    metadata: {},
    spec,
  });
  if (problems.length) {
    const shown = problems.slice(0, SHOWN_PROBLEMS).map((problem) => `${problem.field}: ${problem.message}`);
    return {
      reason: 'TemplateInvalid',
      message: `${chosen.kind} ${chosen.name} makes a runbook the schema refuses: ${shown.join('; ')}${problems.length > SHOWN_PROBLEMS ? ` and ${problems.length - SHOWN_PROBLEMS} more` : ''}`,
    };
  }
  return {
    template: {
      kind: chosen.kind as TemplateStatus['kind'],
      name: chosen.name,
      observedGeneration: runbook.metadata.generation,
      reason: choice.reason.slice(0, 1024),
      spec: spec,
    },
  };
}
