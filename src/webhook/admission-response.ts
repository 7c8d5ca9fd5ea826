/** The AdmissionReview answers the webhook gives: allowed (with a patch or warnings), or refused. */
import type { Json } from '../api/json.js';
import type { FieldError } from '../api/validator.js';

export function respond(uid: string, response: Json): Json {
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid, ...response } };
}

const REASONS: Record<number, string> = { 400: 'BadRequest', 403: 'Forbidden' };

export const deny = (uid: string, code: number, message: string) =>
  respond(uid, { allowed: false, status: { code, reason: REASONS[code] ?? 'Invalid', message } });

/** "field: message; field: message", as a refusal lists what is wrong. */
export const fieldList = (problems: FieldError[]) =>
  problems.map((p) => `${p.field}: ${p.message}`).join('; ');
