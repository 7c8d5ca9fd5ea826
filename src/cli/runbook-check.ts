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
    return { ...verdict, errors: validateTemplate(object).map((p) => `${p.field}: ${p.message}`) };
  }
  if (kind !== KIND || (object.apiVersion !== V1 && object.apiVersion !== V2)) {
    return { ...verdict, errors: [`not an AgentRunbook of ${V1} or ${V2}, nor a template`] };
  }
  const runbook = asV2(object);
  const structural = validateAgentRunbook(runbook).map((p) => `${p.field}: ${p.message}`);
  if (structural.length) return { ...verdict, errors: structural };
  const { problems, warnings } = judgeSpec((runbook as unknown as { spec: SpecV2 }).spec);
  return { ...verdict, errors: problems.map((p) => `${p.field}: ${p.message}`), warnings };
}
