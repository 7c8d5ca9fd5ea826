/**
 * What spec.template means for a reconcile: the spec the run uses is the template's (resolved once
 * per generation and kept in status.template, so a template changed later never changes a run);
 * a runbook whose template cannot be resolved waits, saying why, until a template or its spec
 * changes. The status of every decision names the template and the spec's revision.
 */
import { sameJson } from '../../api/json.js';
import type { SpecV2 } from '../../api/v2/runbook.js';
import { setCondition } from '../model/conditions.js';
import type {
  Decision,
  EngineInput,
  TemplateReason,
  TemplateResolution,
  TemplateStatus,
} from '../model/types.js';

/** Whether the controller must resolve spec.template: the status does not hold this generation's. */
export function templateToResolve(runbook: EngineInput['runbook']): boolean {
  return (
    runbook.spec.template !== undefined &&
    runbook.status?.template?.observedGeneration !== runbook.metadata.generation
  );
}

/** spec.template's outcome for this reconcile; undefined for a runbook that names no template. */
export function templateOutcome(input: EngineInput): TemplateResolution | undefined {
  const { runbook } = input;
  if (!runbook.spec.template) return undefined;
  const stored = runbook.status?.template;
  if (!templateToResolve(runbook) && stored) return { template: stored };
  return (
    input.template ?? { reason: 'TemplatesUnavailable', message: 'this operator does not read templates' }
  );
}

/** The input with the spec the run uses: the template's, when it was made from one. */
export function withTemplateSpec(input: EngineInput, template: TemplateStatus | undefined): EngineInput {
  if (!template) return input;
  return { ...input, runbook: { ...input.runbook, spec: template.spec as unknown as SpecV2 } };
}

/** The decision's status, naming the template the spec came from and the spec's revision. */
export function stamp(input: EngineInput, decision: Decision, template?: TemplateStatus): Decision {
  if (!template && !input.revision) return decision;
  return {
    ...decision,
    status: {
      ...decision.status,
      ...(template ? { template } : {}),
      ...(input.revision ? { revision: input.revision } : {}),
    },
  };
}

/** A runbook whose template cannot be resolved: Pending, with TemplateResolved and Ready saying why. */
export function unresolvedTemplate(
  input: EngineInput,
  why: { reason: TemplateReason; message: string },
): Decision {
  const { runbook, now } = input;
  const { generation } = runbook.metadata;
  // As for any new generation, the status starts over: it describes this spec, which cannot run.
  let conditions = (runbook.status?.conditions ?? []).filter(
    (condition) => condition.type === 'TemplateResolved' || condition.type === 'Ready',
  );
  for (const type of ['TemplateResolved', 'Ready']) {
    conditions = setCondition(
      conditions,
      { type, status: 'False', reason: why.reason, message: why.message },
      now,
      generation,
    );
  }
  const changed = !sameJson(runbook.status?.conditions ?? [], conditions);
  return stamp(input, {
    status: { observedGeneration: generation, phase: 'Pending', conditions },
    create: [],
    delete: [],
    events: changed ? [{ type: 'Warning', reason: why.reason, message: why.message }] : [],
    notifications: [],
  });
}
