/**
 * What the cluster would say to a runbook, worked out offline: the schema, then the validating
 * webhook's own review (every admission rule, and its warnings). Templates get their schema check.
 */
import { convertRunbook, V1, V2 } from '../api/conversion.js';
import { isObject, type Json } from '../api/json.js';
import { KIND, TEMPLATE_KIND_NAMES } from '../api/group.js';
import { validateAgentRunbook, validateTemplate } from '../api/validator.js';
import type { SpecV2 } from '../api/v2/runbook.js';
import { judgeSpec } from '../webhook/admission.js';
import { crdRuleProblems } from '../engine/spec/crd-rules.js';
import { AgentRunbook } from '../api/v2/runbook.js';
import { AgentRunbookTemplate } from '../api/v2/template.js';
import { v1Paths } from '../api/v1/field-paths.js';

export interface Verdict {
  kind: string;
  name: string;
  errors: string[];
  warnings: string[];
}

const nameOf = (object: Json) =>
  isObject(object.metadata) && typeof object.metadata.name === 'string' ? object.metadata.name : '(unnamed)';

/** A runbook of either API version as v2 (how the webhook sees it). */
export function asV2(object: Json): Json {
  return object.apiVersion === V1 ? convertRunbook(object, V2) : object;
}

export function checkManifest(object: Json): Verdict {
  const kind = typeof object.kind === 'string' ? object.kind : '';
  const verdict = { kind: kind || '(no kind)', name: nameOf(object), errors: [], warnings: [] };
  if ((TEMPLATE_KIND_NAMES as readonly string[]).includes(kind)) {
    const structural = validateTemplate(object);
    const problems = structural.length ? structural : crdRuleProblems(AgentRunbookTemplate, object, '');
    return { ...verdict, errors: problems.map((p) => `${p.field.replace(/^\./, '')}: ${p.message}`) };
  }
  if (kind !== KIND || (object.apiVersion !== V1 && object.apiVersion !== V2)) {
    return { ...verdict, errors: [`not an AgentRunbook of ${V1} or ${V2}, nor a template`] };
  }
  const runbook = asV2(object);
  // Said at the fields the author wrote: a v1 document's own paths.
  const asWritten = (text: string) => (object.apiVersion === V1 ? v1Paths(text, runbook, object) : text);
  // The schema first, then the CRD's CEL rules (which the API server checks), then the webhook's.
  const structural = validateAgentRunbook(runbook);
  const broken = structural.length ? structural : crdRuleProblems(AgentRunbook, runbook, '');
  if (broken.length)
    return {
      ...verdict,
      errors: broken.map((p) => asWritten(`${p.field.replace(/^\./, '')}: ${p.message}`)),
    };
  const { problems, warnings } = judgeSpec((runbook as unknown as { spec: SpecV2 }).spec);
  return {
    ...verdict,
    errors: problems.map((p) => asWritten(`${p.field}: ${p.message}`)),
    warnings: warnings.map(asWritten),
  };
}
